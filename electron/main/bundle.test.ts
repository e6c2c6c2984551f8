import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonClient } from '../../daemon/client';
import { ensureDaemonBuilt, shutdownAndWait, tempPlace, type DaemonPlace } from '../../test/helpers/daemon';
import { ADMIN_OPERATION_NAMES } from '../ipc/contract';

// Builds main and preload with the real electron.vite.config.ts (into a temp dir), then runs the
// bundles without Electron: main under Node with a recording stand-in for the electron module,
// the preload in a VM with a stand-in contextBridge that runs the page-world code in another realm.

const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
let out: string;

beforeAll(async () => {
  ensureDaemonBuilt();
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-bundle-'));
  fs.writeFileSync(path.join(out, 'package.json'), '{"type":"module"}');
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(out, 'node_modules'));
  const config = path.join(out, 'electron.vite.config.mjs');
  fs.writeFileSync(
    config,
    `import { bellaConfig } from ${JSON.stringify(path.join(root, 'electron.vite.config.ts'))};
const { main, preload } = bellaConfig(${JSON.stringify(root)}, ${JSON.stringify(out)});
export default { main, preload };`,
  );
  await run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `(await import('electron-vite')).build({ configFile: ${JSON.stringify(config)}, logLevel: 'warn' })`,
    ],
    { cwd: root },
  );
}, 120_000);

afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

describe('the preload bundle', () => {
  it('is CommonJS that requires nothing but electron (a sandboxed preload can require nothing else)', () => {
    const code = fs.readFileSync(path.join(out, 'preload/index.cjs'), 'utf8');
    expect([...code.matchAll(/require\(([^)]*)\)/g)].map((m) => m[1])).toEqual(['"electron"']);
    expect(code).not.toMatch(/z\.object\(|ZodError/);
  });

  it('builds window.bella in the page world: one function per operation on its own channel, errors keep their code', async () => {
    const code = fs.readFileSync(path.join(out, 'preload/index.cjs'), 'utf8');
    const page = vm.createContext({});
    const invoked: Array<[string, unknown]> = [];
    const listeners = new Map<string, (e: unknown, data: unknown) => void>();
    const electron = {
      ipcRenderer: {
        invoke: async (channel: string, input: unknown) => {
          invoked.push([channel, input]);
          return channel === 'bella:createProject'
            ? {
                ok: false,
                error: { code: 'conflict', message: 'project acme already exists', details: { slug: 'acme' } },
              }
            : { ok: true, value: { projects: [] } };
        },
        on: (channel: string, l: (e: unknown, data: unknown) => void) => listeners.set(channel, l),
        removeListener: (channel: string) => listeners.delete(channel),
      },
      contextBridge: {
        // Electron serialises `func` and runs it in the page's world with the arguments.
        executeInMainWorld: ({ func, args }: { func: (...a: unknown[]) => unknown; args: unknown[] }) =>
          (vm.runInContext(`(${func.toString()})`, page) as (...a: unknown[]) => unknown)(...args),
        exposeInMainWorld: () => {
          throw new Error('not expected: executeInMainWorld works');
        },
      },
    };
    const isolated = vm.createContext({
      require: (name: string) => (name === 'electron' ? electron : undefined),
      console,
    });
    vm.runInContext(code, isolated);

    const bella = vm.runInContext('globalThis.bella', page) as Record<string, (input?: unknown) => Promise<unknown>>;
    expect(Object.keys(bella).sort()).toEqual([...ADMIN_OPERATION_NAMES, 'onEvent'].sort());
    expect(vm.runInContext('Object.keys(globalThis)', page)).toEqual(['bella']);
    expect(vm.runInContext('typeof globalThis.ipcRenderer', page)).toBe('undefined');

    await expect(bella.listProjects!()).resolves.toEqual({ projects: [] });
    const err = (await bella.createProject!({ slug: 'acme', name: 'Acme' }).catch((e: unknown) => e)) as {
      code: string;
      message: string;
      details: unknown;
    };
    expect(vm.runInContext('(e) => e instanceof Error', page)(err)).toBe(true);
    expect(err).toMatchObject({ code: 'conflict', message: 'project acme already exists', details: { slug: 'acme' } });
    expect(invoked).toEqual([
      ['bella:listProjects', {}],
      ['bella:createProject', { slug: 'acme', name: 'Acme' }],
    ]);

    const seen: unknown[] = [];
    const off = (bella.onEvent as unknown as (cb: (e: unknown) => void) => () => void)((e) => seen.push(e));
    listeners.get('bella:event')!({ sender: 'ipc internals' }, { type: 'DataChanged', resource: 'projects' });
    expect(seen).toEqual([{ type: 'DataChanged', resource: 'projects' }]);
    off();
    expect(listeners.has('bella:event')).toBe(false);
  });
});

describe('the main bundle', () => {
  let place: DaemonPlace;
  afterAll(async () => {
    await shutdownAndWait(place.socket, place.home);
    place.cleanup();
  });

  it('ships none of the test fakes of electron/main/testing', () => {
    const files = fs.readdirSync(path.join(out, 'main'), { recursive: true, encoding: 'utf8' });
    const code = files
      .filter((f) => f.endsWith('.js'))
      .map((f) => fs.readFileSync(path.join(out, 'main', f), 'utf8'))
      .join('\n');
    expect(code).toContain('bella:event');
    expect(code).not.toMatch(/FakeSeam|FakeWindow|FakeWebContents/);
  });

  it('runs: secure window, one handler per operation, daemon started and reached, foreign frames refused', async () => {
    place = tempPlace('bella-bundle');
    const reportFile = path.join(place.root, 'report.json');
    await run(
      process.execPath,
      ['--import', path.join(import.meta.dirname, 'testing/register.mjs'), path.join(out, 'main/index.js')],
      {
        cwd: root,
        env: {
          ...process.env,
          BELLA_HOME: place.home,
          BELLA_SOCKET: place.socket,
          FAKE_APP_PATH: root,
          FAKE_REPORT: reportFile,
        },
        timeout: 60_000,
      },
    );
    const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
    expect(report.error).toBeUndefined();
    expect(report.lock).toBe(true);
    expect(report.windows).toHaveLength(1);
    expect(report.windows[0].webPreferences).toMatchObject({
      preload: path.join(out, 'preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    });
    expect(report.loaded).toEqual([path.join(out, 'renderer/index.html')]);
    expect(report.channels.sort()).toEqual(ADMIN_OPERATION_NAMES.map((op) => `bella:${op}`).sort());
    expect(report.status).toMatchObject({ ok: true, value: { socket: place.socket } });
    expect(report.created).toMatchObject({ ok: true, value: { project: { slug: 'acme' } } });
    expect(report.untrusted).toMatchObject({ ok: false, error: { code: 'permission_denied' } });
    expect(report.navigationPrevented).toBe(true);
    expect(report.windowOpen).toEqual({ action: 'deny' });
    expect(report.permission).toBe(false);
    expect(report.csp[0]).toContain("script-src 'self'");
    expect(report.tray.icon).toBe(path.join(root, 'build/icons/tray.png'));
    expect(report.tray.menu[0]).toBe('0 active leases');
    expect(report.tray.menu).toContain('Open bella');
    // The daemon outlives the app process.
    const client = new DaemonClient({ socketPath: place.socket });
    const { projects } = await client.call('listProjects', {});
    client.close();
    expect(projects.map((p) => p.slug)).toEqual(['acme']);
  });
});
