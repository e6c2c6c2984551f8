import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureBuilt, repoRoot } from '../helpers/build';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-pack-'));
const home = path.join(dir, 'home');
const bella = path.join(dir, 'prefix', 'bin', 'bella');
afterAll(() => {
  spawnSync(bella, ['daemon', 'stop'], { env: { ...process.env, BELLA_HOME: home }, timeout: 15_000 });
  fs.rmSync(dir, { recursive: true, force: true });
});

const run = (...args: string[]) =>
  execFileSync(bella, args, { env: { ...process.env, BELLA_HOME: home }, encoding: 'utf8', timeout: 30_000 });

describe('the package a spare box installs (README: npm pack, npm install -g)', () => {
  it('holds the built CLI, daemon and unit, and the installed bella serves a lease', () => {
    ensureBuilt();
    // dist/ is ignored by git, so only package.json's `files` puts it in the tarball.
    const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    const { filename, files } = (JSON.parse(packed) as Array<{ filename: string; files: Array<{ path: string }> }>)[0]!;
    const paths = files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'bin/bella.cjs',
        'bin/bella.mjs',
        'dist/cli.cjs',
        'dist/daemon.cjs',
        'dist/audit-verify.js',
        // The worker that scans the audit trail at start while the lease table is read.
        'dist/audit-scan.cjs',
        // The one-file CLI an installed daemon serves to holders.
        'dist/bella.mjs',
        'build/bella.service',
      ]),
    );
    expect(paths.filter((p) => /^(test|docs|renderer|daemon)\//.test(p))).toEqual([]);

    execFileSync(
      'npm',
      [
        'install',
        '-g',
        '--prefix',
        path.join(dir, 'prefix'),
        '--ignore-scripts',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        path.join(dir, filename),
      ],
      { cwd: dir, encoding: 'utf8', timeout: 240_000 },
    );
    run('projects', 'create', '--name', 'My API', '--slug', 'my-api');
    run('environments', 'create', '-p', 'my-api', '--name', 'Production', '--slug', 'production');
    execFileSync(bella, ['secrets', 'set', 'DATABASE_URL', '-p', 'my-api', '-e', 'production'], {
      env: { ...process.env, BELLA_HOME: home },
      input: 'postgres://db',
      timeout: 30_000,
    });
    const token = run('issue', '-p', 'my-api', '-e', 'production', '--scope', 'DATABASE_URL', '--ttl', '5').trim();
    expect(run('secrets', 'get', 'DATABASE_URL', '--token', token)).toBe('postgres://db\n');
    expect(run('audit', 'verify')).toMatch(/intact/);
  }, 300_000);
});
