import { afterEach, describe, expect, it, vi } from 'vitest';
import { BellaError, type DaemonEvent, type Lease } from '../../daemon/api';
import type { DaemonClient, EnsureDaemonOptions } from '../../daemon/client';
import { ADMIN_OPERATION_NAMES, EVENT_CHANNEL } from '../ipc/contract';
import { startApp, type AppConfig, type RunningApp } from './app';
import { FakeSeam, type FakeWindow } from './testing/fake-seam';
import { UNTRUSTED_SENDER } from './ipc';
import { CONTENT_SECURITY_POLICY } from './security';

const RENDERER = '/src/bella/out/renderer/index.html';
const APP_URL = `file://${RENDERER}`;

function lease(id: string, minutes: number): Lease {
  const now = Date.now();
  return {
    id,
    project: 'acme',
    environment: 'prod',
    scope: ['DB_URL'],
    reason: 'deploy',
    issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + minutes * 60_000).toISOString(),
    status: 'active',
    renewals: 0,
    lastUsedAt: null,
    endedAt: null,
    endReason: null,
  };
}

/** A daemon stand-in: records calls, serves `leases`, and lets a test push events. */
function fakeDaemon() {
  const calls: Array<[string, unknown]> = [];
  const streams: Array<{ onEvent: (e: DaemonEvent) => void; stopped: boolean }> = [];
  const state = { leases: [lease('aaaaaaaaaaaaaaaa', 10), lease('bbbbbbbbbbbbbbbb', 90)] };
  const client = {
    async call(op: string, input: unknown) {
      calls.push([op, input]);
      if (op === 'listLeases') return { leases: state.leases, total: state.leases.length, nextCursor: null };
      if (op === 'getLease') throw new BellaError('not_found', 'no such lease');
      return {};
    },
    async subscribe(onEvent: (e: DaemonEvent) => void) {
      const s = { onEvent, stopped: false };
      streams.push(s);
      return () => {
        s.stopped = true;
      };
    },
    close() {},
  } as unknown as DaemonClient;
  const ensure = vi.fn(async (_o: EnsureDaemonOptions) => ({ client, started: true }));
  return {
    calls,
    streams,
    state,
    ensure,
    emit(e: DaemonEvent) {
      for (const s of streams) if (!s.stopped) s.onEvent(e);
    },
  };
}

let running: RunningApp | null = null;
afterEach(() => {
  running?.shutdown();
  running = null;
});

async function start(seam = new FakeSeam(), overrides: Partial<AppConfig> = {}) {
  const daemon = fakeDaemon();
  const startAtLogin = {
    enabled: false,
    isEnabled: () => startAtLogin.enabled,
    setEnabled: (v: boolean) => void (startAtLogin.enabled = v),
  };
  running = await startApp(seam, {
    renderer: { kind: 'file', file: RENDERER },
    preload: '/src/bella/out/preload/index.cjs',
    trayIcon: '/src/bella/build/icons/tray.png',
    home: '/tmp/bella-home',
    socket: '/tmp/bella-home/run/bella.sock',
    env: { PATH: '/usr/bin', ELECTRON_RUN_AS_NODE: '1' },
    connector: (place, launch) => ({ running: () => daemon.ensure({ ...place, ...launch }) }),
    startAtLogin,
    ...overrides,
  });
  return { seam, daemon, app: running, startAtLogin, win: seam.windows[0] as FakeWindow };
}

describe('single instance', () => {
  it('a second instance quits at once and touches nothing', async () => {
    const seam = new FakeSeam();
    seam.lock = false;
    const { app, daemon } = await start(seam);
    expect(app).toBeNull();
    expect(seam.quits).toBe(1);
    expect(seam.windows).toHaveLength(0);
    expect(seam.ipc.size).toBe(0);
    expect(daemon.ensure).not.toHaveBeenCalled();
  });

  it('the first instance shows its window again when a second one starts', async () => {
    const { seam, win } = await start();
    seam.emitApp('second-instance');
    expect(seam.windows).toHaveLength(1);
    expect(win.focused).toBe(1);
    win.close();
    seam.emitApp('second-instance');
    expect(seam.windows).toHaveLength(2);
  });

  it('a second launch with --open=requests/ID (a notification button) shows that request; other routes are ignored', async () => {
    const { seam, win } = await start();
    const id = 'req_0123456789abcdef';
    seam.emitApp('second-instance', ['/opt/bella/bella', `--open=requests/${id}`]);
    expect(seam.windows).toHaveLength(1);
    expect(win.loaded).toEqual([RENDERER, `${RENDERER}#/requests/${id}`]);
    expect(win.focused).toBe(1);
    for (const bad of ['--open=listener', '--open=requests/../../etc', `--open=requests/${id}/x`, '--open=https://x']) {
      seam.emitApp('second-instance', ['/opt/bella/bella', bad]);
    }
    expect(win.loaded).toHaveLength(2);
    win.close();
    // No window open: the new one starts on the request.
    seam.emitApp('second-instance', ['/opt/bella/bella', `--open=requests/${id}`]);
    expect(seam.windows[1]!.loaded).toEqual([`${RENDERER}#/requests/${id}`]);
  });

  it('started by a notification button (--open on its own command line), even hidden, it opens on the request', async () => {
    const seam = new FakeSeam();
    seam.argv = ['/opt/bella/bella', '--hidden', '--open=requests/req_0123456789abcdef'];
    const { win } = await start(seam);
    expect(win.loaded).toEqual([`${RENDERER}#/requests/req_0123456789abcdef`]);
  });
});

describe('windows', () => {
  it('every window is created with the security flags and the preload', async () => {
    const { seam, win } = await start();
    win.close();
    seam.emitApp('activate');
    expect(seam.windows).toHaveLength(2);
    for (const w of seam.windows) {
      expect(w.options.webPreferences).toMatchObject({
        preload: '/src/bella/out/preload/index.cjs',
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
      });
    }
  });

  it('loads the built renderer file and shows the window when ready', async () => {
    const { win } = await start();
    expect(win.loaded).toEqual([RENDERER]);
    expect(win.shown).toBe(0);
    win.emit('ready-to-show');
    expect(win.shown).toBe(1);
  });

  it('starts hidden in the tray with --hidden, but not without a tray', async () => {
    const seam = new FakeSeam();
    seam.argv = ['/opt/bella/bella', '--hidden'];
    await start(seam);
    expect(seam.windows).toHaveLength(0);
    running?.shutdown();
    const noTray = new FakeSeam();
    noTray.argv = ['/opt/bella/bella', '--hidden'];
    noTray.trayFails = true;
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    await start(noTray);
    spy.mockRestore();
    expect(noTray.windows).toHaveLength(1);
  });

  it('closing the last window keeps the app in the tray; without a tray it quits', async () => {
    const { seam } = await start();
    seam.emitApp('window-all-closed');
    expect(seam.quits).toBe(0);
    running?.shutdown();
    const noTray = new FakeSeam();
    noTray.trayFails = true;
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    await start(noTray);
    spy.mockRestore();
    noTray.emitApp('window-all-closed');
    expect(noTray.quits).toBe(1);
  });
});

describe('IPC', () => {
  it('registers exactly one handler per admin operation', async () => {
    const { seam } = await start();
    expect([...seam.ipc.keys()].sort()).toEqual(ADMIN_OPERATION_NAMES.map((op) => `bella:${op}`).sort());
    expect(seam.ipc.has('bella:readSecrets')).toBe(false);
  });

  it('relays a call from the app’s own main frame to the daemon, errors as values', async () => {
    const { seam, win, daemon } = await start();
    const ok = await seam.invoke('bella:createProject', win.webContents.ipcEvent(), { slug: 'acme', name: 'Acme' });
    expect(ok).toEqual({ ok: true, value: {} });
    expect(daemon.calls).toContainEqual(['createProject', { slug: 'acme', name: 'Acme' }]);
    const bad = await seam.invoke('bella:getLease', win.webContents.ipcEvent(), { id: 'cccccccccccccccc' });
    expect(bad).toEqual({ ok: false, error: { code: 'not_found', message: 'no such lease' } });
    const invalid = await seam.invoke('bella:getLease', win.webContents.ipcEvent(), { id: '../../etc' });
    expect(invalid).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
  });

  it('an unexpected frame gets nothing and the daemon is not called', async () => {
    const { seam, win, daemon } = await start();
    const foreign = seam.createContents();
    foreign.url = APP_URL;
    const wc = win.webContents;
    const cases = [
      ['a subframe of the app window', wc.ipcEvent(wc.frame(APP_URL, wc.frame()))],
      ['a main frame showing another page', wc.ipcEvent(wc.frame('https://evil.example/'))],
      ['another file in the app window', wc.ipcEvent(wc.frame('file:///tmp/evil.html'))],
      ['a destroyed or navigated frame', wc.ipcEvent(null)],
      ['web contents that are not an app window', foreign.ipcEvent()],
    ] as const;
    const before = daemon.calls.length;
    for (const [what, event] of cases) {
      for (const op of ['createProject', 'listLeases', 'expireAll']) {
        const r = await seam.invoke(`bella:${op}`, event, { slug: 'x', name: 'x', project: 'p', environment: 'e' });
        expect(r, what).toEqual(UNTRUSTED_SENDER);
      }
    }
    expect(daemon.calls.length).toBe(before);
  });

  it('a closed window’s contents are no longer trusted', async () => {
    const { seam, win } = await start();
    const event = win.webContents.ipcEvent();
    win.close();
    expect(await seam.invoke('bella:status', event, {})).toEqual(UNTRUSTED_SENDER);
  });

  it('forwards daemon events to app windows only while they show the app', async () => {
    const { win, daemon } = await start();
    await vi.waitFor(() => expect(daemon.streams.length).toBeGreaterThan(0));
    const e: DaemonEvent = {
      type: 'LeaseRevoked',
      at: new Date().toISOString(),
      project: 'acme',
      environment: 'prod',
      leaseIds: ['aaaaaaaaaaaaaaaa'],
    };
    daemon.emit(e);
    expect(win.webContents.sent).toContainEqual([EVENT_CHANNEL, [e]]);
    win.webContents.url = 'https://evil.example/';
    const count = win.webContents.sent.length;
    daemon.emit(e);
    expect(win.webContents.sent.length).toBe(count);
  });
});

describe('navigation, new windows, webviews, permissions, CSP', () => {
  it('blocks navigation of every web contents, app window or not', async () => {
    const { seam, win } = await start();
    for (const contents of [win.webContents, seam.createContents()]) {
      expect(contents.fire('will-navigate', 'https://evil.example/').prevented).toBe(true);
      expect(contents.fire('will-navigate', APP_URL).prevented).toBe(true);
      expect(contents.fire('will-frame-navigate', 'https://evil.example/').prevented).toBe(true);
      expect(contents.fire('will-redirect', 'https://evil.example/').prevented).toBe(true);
      expect(contents.fire('will-attach-webview').prevented).toBe(true);
    }
  });

  it('denies every new window; only allow-listed https links open in the system browser', async () => {
    const { seam, win } = await start();
    const open = win.webContents.openHandler!;
    for (const url of [
      'https://github.com/bella/bella',
      'https://evil.example/',
      'http://github.com/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'https://user:pw@github.com/',
      'smb://host/share',
    ]) {
      expect(open({ url })).toEqual({ action: 'deny' });
    }
    await vi.waitFor(() => expect(seam.opened).toEqual(['https://github.com/bella/bella']));
    win.webContents.fire('will-navigate', 'https://github.com/docs');
    await vi.waitFor(() => expect(seam.opened).toContain('https://github.com/docs'));
  });

  it('denies permission requests and checks, except copying for the app’s own main frame', async () => {
    const { seam } = await start();
    for (const handler of [seam.permissionRequest!, seam.permissionCheck!]) {
      for (const permission of [
        'media',
        'geolocation',
        'notifications',
        'openExternal',
        'clipboard-read',
        'hid',
        'unknown',
      ]) {
        expect(handler({ permission, requestingUrl: APP_URL, isMainFrame: true }), permission).toBe(false);
      }
      expect(handler({ permission: 'clipboard-sanitized-write', requestingUrl: APP_URL, isMainFrame: true })).toBe(
        true,
      );
      expect(handler({ permission: 'clipboard-sanitized-write', requestingUrl: APP_URL, isMainFrame: false })).toBe(
        false,
      );
      expect(
        handler({ permission: 'clipboard-sanitized-write', requestingUrl: 'https://evil.example/', isMainFrame: true }),
      ).toBe(false);
    }
  });

  it('sets the CSP header on every response, replacing any other', async () => {
    const { seam } = await start();
    const out = seam.headers!({ 'content-security-policy': ["script-src 'unsafe-inline'"], 'X-Other': ['1'] });
    expect(out).toEqual({ 'X-Other': ['1'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-(inline|eval)/);
  });
});

describe('daemon', () => {
  it('development: starts `node dist/daemon.cjs` without ELECTRON_RUN_AS_NODE', async () => {
    const { daemon } = await start();
    await vi.waitFor(() => expect(daemon.ensure).toHaveBeenCalled());
    const o = daemon.ensure.mock.calls[0]![0];
    expect(o).toMatchObject({
      home: '/tmp/bella-home',
      socket: '/tmp/bella-home/run/bella.sock',
      daemonScript: '/src/bella/dist/daemon.cjs',
      execPath: 'node',
    });
    expect(o.env?.ELECTRON_RUN_AS_NODE).toBeUndefined();
  });

  it('packaged: runs the unpacked daemon with Electron’s own Node', async () => {
    const seam = new FakeSeam();
    seam.isPackaged = true;
    const { daemon } = await start(seam);
    await vi.waitFor(() => expect(daemon.ensure).toHaveBeenCalled());
    expect(daemon.ensure.mock.calls[0]![0]).toMatchObject({
      daemonScript: '/opt/bella/resources/app.asar.unpacked/dist/daemon.cjs',
      execPath: '/opt/bella/bella',
      env: { ELECTRON_RUN_AS_NODE: '1' },
    });
  });

  it('before-quit stops the event stream (the daemon itself keeps running)', async () => {
    const { seam, daemon } = await start();
    await vi.waitFor(() => expect(daemon.streams.length).toBeGreaterThan(0));
    seam.emitApp('before-quit');
    expect(daemon.streams.every((s) => s.stopped)).toBe(true);
    expect(seam.trays[0]!.destroyed).toBe(true);
    expect(daemon.calls.map(([op]) => op)).not.toContain('shutdown');
  });
});

describe('tray', () => {
  it('shows the active lease count and the next expiry, refreshed from events', async () => {
    const { seam, daemon } = await start();
    const tray = seam.trays[0]!;
    await vi.waitFor(() => expect(tray.labels()[0]).toBe('2 active leases'));
    expect(tray.labels()[1]).toMatch(/^Next expiry in (9|10) min \(acme\/prod\)$/);
    expect(tray.tooltip).toMatch(/^bella — 2 active leases, next expiry in/);
    daemon.state.leases = [lease('bbbbbbbbbbbbbbbb', 90)];
    daemon.emit({
      type: 'LeaseRevoked',
      at: new Date().toISOString(),
      project: 'acme',
      environment: 'prod',
      leaseIds: ['aaaaaaaaaaaaaaaa'],
    });
    await vi.waitFor(() => expect(tray.labels()[0]).toBe('1 active lease'));
    expect(tray.labels()[1]).toMatch(/^Next expiry in 1 h (29|30) min/);
  });

  it('opens the window, toggles start at login, and quits', async () => {
    const { seam, win, startAtLogin } = await start();
    const tray = seam.trays[0]!;
    win.close();
    tray.item(/^Open bella$/).click!();
    expect(seam.windows).toHaveLength(2);
    tray.clickListeners[0]!();
    expect(seam.windows).toHaveLength(2);
    expect(tray.item(/^Start at login$/).checked).toBe(false);
    tray.item(/^Start at login$/).click!();
    expect(startAtLogin.enabled).toBe(true);
    expect(tray.item(/^Start at login$/).checked).toBe(true);
    tray.item(/^Quit/).click!();
    expect(seam.quits).toBe(1);
  });
});
