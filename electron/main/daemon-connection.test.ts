import { describe, expect, it, vi } from 'vitest';
import type { DaemonClient } from '../../daemon/client';
import { createDaemonConnection, daemonLaunch } from './daemon-connection';

const ctx = {
  isPackaged: false,
  execPath: '/e/bella',
  resourcesPath: '/e/resources',
  appPath: '/src',
  env: { A: '1' },
};

describe('daemonLaunch', () => {
  it('development runs node on dist/daemon.cjs, packaged runs Electron as Node on the unpacked script; both know how to launch the app', () => {
    expect(daemonLaunch(ctx)).toEqual({
      daemonScript: '/src/dist/daemon.cjs',
      execPath: 'node',
      env: { A: '1', BELLA_APP_COMMAND: JSON.stringify(['/e/bella', '/src']) },
    });
    expect(daemonLaunch({ ...ctx, isPackaged: true })).toEqual({
      daemonScript: '/e/resources/app.asar.unpacked/dist/daemon.cjs',
      execPath: '/e/bella',
      env: { A: '1', BELLA_APP_COMMAND: JSON.stringify(['/e/bella']), ELECTRON_RUN_AS_NODE: '1' },
    });
  });
});

describe('createDaemonConnection', () => {
  const client = (n: number) => ({ n, close: vi.fn() }) as unknown as DaemonClient;

  it('finds the daemon once, shares it, and looks again only after markStale', async () => {
    let n = 0;
    const ensure = vi.fn(async () => ({ client: client(++n) }));
    const conn = createDaemonConnection(ensure);
    const [a, b] = await Promise.all([conn.getClient(), conn.getClient()]);
    expect(a).toBe(b);
    expect(ensure).toHaveBeenCalledTimes(1);
    conn.markStale();
    const c = await conn.getClient();
    expect(c).not.toBe(a);
    expect(ensure).toHaveBeenCalledTimes(2);
  });

  it('a failed attempt is not cached', async () => {
    let fail = true;
    const conn = createDaemonConnection(async () => {
      if (fail) throw new Error('did not start');
      return { client: client(1) };
    });
    await expect(conn.getClient()).rejects.toThrow('did not start');
    fail = false;
    await expect(conn.getClient()).resolves.toBeTruthy();
  });
});
