import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/build';

const unitFile = path.join(repoRoot, 'build', 'bella.service');
const unit = fs.readFileSync(unitFile, 'utf8');
const INSTALLED = '/usr/local/bin/bella';

const tool = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const missing = tool.error || tool.status !== 0 ? 'systemd-analyze is not installed (Debian package systemd)' : null;
// CI installs it (.ci/run); only a developer machine without systemd may go without.
if (missing && process.env.CI) throw new Error(`${missing}: .ci/run must install the systemd package`);
if (missing) console.warn(`systemd unit verification skipped: ${missing}`);

/** `Key=value` lines of one section, in order (keys may repeat). */
function section(name: string): [string, string][] {
  const body = unit.split(/^\[/m).find((s) => s.startsWith(`${name}]`)) ?? '';
  return body
    .split('\n')
    .slice(1)
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-unit-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/**
 * A copy of the unit whose ExecStart points at a stub: verify checks that the binary exists,
 * and bella is not installed at /usr/local/bin on a test machine. Nothing else changes.
 */
function verifiable(text: string, name = 'bella.service'): string {
  const stub = path.join(dir, 'bella');
  fs.writeFileSync(stub, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const file = path.join(dir, name);
  fs.writeFileSync(file, text.replace(`ExecStart=${INSTALLED} `, `ExecStart=${stub} `));
  return file;
}

function analyze(args: string[]) {
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

describe('build/bella.service', () => {
  it('runs `bella daemon run` as a dedicated user on its own data dir, restarting on failure, stopping on SIGTERM', () => {
    const service = new Map(section('Service'));
    expect(service.get('ExecStart')).toBe(`${INSTALLED} daemon run`);
    expect(service.get('User')).toBe('bella');
    expect(service.get('Environment')).toBe('BELLA_HOME=/var/lib/bella');
    expect(service.get('StateDirectory')).toBe('bella');
    expect(service.get('ReadWritePaths')).toBe('/var/lib/bella');
    expect(service.get('Restart')).toBe('on-failure');
    expect(service.get('KillSignal')).toBe('SIGTERM');
    expect(service.get('StandardError')).toBe('journal');
    expect(service.get('UMask')).toBe('0077');
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
    ]) {
      expect(service.get(key!), key).toBe(value);
    }
    expect(unit).toContain(`puts \`bella\` at ${INSTALLED}`);
  });

  it.skipIf(missing !== null)(
    `passes systemd-analyze verify without a warning${missing ? ` (skipped: ${missing})` : ''}`,
    () => {
      expect(analyze(['verify', '--man=no', verifiable(unit)])).toEqual({ status: 0, output: '' });
      // The same check does catch a broken unit, so an empty output above means something.
      const broken = unit.replace('UMask=0077', 'UMaskk=0077').replace('Restart=on-failure', 'Restart=sometimes');
      const { output } = analyze(['verify', '--man=no', verifiable(broken, 'broken.service')]);
      expect(output).toMatch(/Unknown key 'UMaskk'/);
      expect(output).toMatch(/restart specifier.*sometimes/);
    },
  );

  it.skipIf(missing !== null)(
    `has a low exposure by systemd-analyze security${missing ? ` (skipped: ${missing})` : ''}`,
    () => {
      const { status, output } = analyze(['security', '--offline=yes', verifiable(unit)]);
      expect(status, output).toBe(0);
      const exposure = Number(/Overall exposure level for bella\.service: ([\d.]+)/.exec(output)?.[1]);
      expect(exposure).toBeLessThanOrEqual(2);
    },
  );
});
