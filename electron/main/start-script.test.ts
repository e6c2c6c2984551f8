import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DaemonClient } from '../../daemon/client';
import { cliHint, displayProblem, start } from '../../scripts/start';
import { ensureDaemonBuilt } from '../../test/helpers/daemon';

const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function tempHome(): { home: string; socket: string } {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-start-'));
  const socket = path.join(home, 'run', 'bella.sock');
  cleanups.push(async () => {
    const client = new DaemonClient({ socketPath: socket });
    await client.call('shutdown', {}).catch(() => {});
    client.close();
    for (let i = 0; i < 100 && fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 20));
    fs.rmSync(home, { recursive: true, force: true });
  });
  return { home, socket };
}

describe('displayProblem', () => {
  it('needs DISPLAY or WAYLAND_DISPLAY on Linux only', () => {
    expect(displayProblem('linux', {})).toMatch(/no display/);
    expect(displayProblem('linux', { DISPLAY: ':0' })).toBeNull();
    expect(displayProblem('linux', { WAYLAND_DISPLAY: 'wayland-0' })).toBeNull();
    expect(displayProblem('darwin', {})).toBeNull();
    expect(displayProblem('win32', {})).toBeNull();
  });

  it('the hint is one line naming the socket and the CLI', () => {
    const line = cliHint('there is no display', '/tmp/x.sock');
    expect(line).not.toContain('\n');
    expect(line).toContain('/tmp/x.sock');
    expect(line).toContain('npx bella --help');
  });
});

describe('npm start where Electron cannot open', () => {
  beforeAll(() => ensureDaemonBuilt());

  it('without a display: one line, the daemon left running, exit 0 (real script, real daemon)', async () => {
    const { home, socket } = tempHome();
    const env: NodeJS.ProcessEnv = { ...process.env, BELLA_HOME: home, BELLA_SOCKET: socket };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { cwd: root, env });
    expect(stdout.trim().split('\n')).toHaveLength(1);
    expect(stdout).toContain('cannot open the desktop app: there is no display');
    expect(stdout).toContain('npx bella --help');
    expect(stdout).toContain(socket);
    expect(stderr).toBe('');
    const client = new DaemonClient({ socketPath: socket });
    const status = await client.call('status', {});
    client.close();
    expect(status.socket).toBe(socket);
  });

  it('when the Electron binary cannot be had: the same one line, exit 0, the daemon already running is reused', async () => {
    const { home, socket } = tempHome();
    const lines: string[] = [];
    const saved = { home: process.env.BELLA_HOME, socket: process.env.BELLA_SOCKET };
    process.env.BELLA_HOME = home;
    process.env.BELLA_SOCKET = socket;
    try {
      const env = { ...process.env, DISPLAY: ':99' };
      const first = await start({
        platform: 'linux',
        env,
        locateElectron: () => ({ ok: false, problem: 'no binary' }),
        out: (l) => lines.push(l),
      });
      const client = new DaemonClient({ socketPath: socket });
      const pid = (await client.call('status', {})).pid;
      const second = await start({
        platform: 'linux',
        env,
        locateElectron: () => ({ ok: false, problem: 'no binary' }),
        out: (l) => lines.push(l),
      });
      expect((await client.call('status', {})).pid).toBe(pid);
      client.close();
      expect([first, second]).toEqual([0, 0]);
      expect(lines).toEqual([cliHint('no binary', socket), cliHint('no binary', socket)]);
    } finally {
      process.env.BELLA_HOME = saved.home;
      process.env.BELLA_SOCKET = saved.socket;
      if (saved.home === undefined) delete process.env.BELLA_HOME;
      if (saved.socket === undefined) delete process.env.BELLA_SOCKET;
    }
  });

  it('when Electron fails to spawn: one line and exit 0', async () => {
    const { home, socket } = tempHome();
    const lines: string[] = [];
    process.env.BELLA_HOME = home;
    process.env.BELLA_SOCKET = socket;
    try {
      const code = await start({
        platform: 'darwin',
        env: { ...process.env },
        locateElectron: () => ({ ok: true, path: path.join(home, 'no-such-electron') }),
        out: (l) => lines.push(l),
      });
      expect(code).toBe(0);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/Electron could not be started .*ENOENT.*npx bella --help/);
    } finally {
      delete process.env.BELLA_HOME;
      delete process.env.BELLA_SOCKET;
    }
  });
});
