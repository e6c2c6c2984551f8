import type { Connector, DaemonLaunch, DaemonPlace } from '../../daemon/client';
import { createDaemonConnection, daemonLaunch, type LaunchContext } from './daemon-connection';
import { forwardEvents, registerIpcHandlers } from './ipc';
import { HIDDEN_FLAG, createStartAtLogin, launchCommand, type StartAtLogin } from './login';
import { Relay } from './relay';
import type { ElectronSeam, WindowLike } from './seam';
import {
  createAppUrlCheck,
  createSafeOpenExternal,
  hardenSession,
  hardenWebContents,
  secureWindowOptions,
  type RendererLocation,
} from './security';
import { TrayController } from './tray';

/** Everything the main process needs besides Electron itself. */
export interface AppConfig {
  renderer: RendererLocation;
  /** The built preload script (out/preload/index.cjs). */
  preload: string;
  windowIcon?: string;
  trayIcon: string;
  /** The daemon's data directory and socket. */
  home: string;
  socket: string;
  env: NodeJS.ProcessEnv;
  /** The connector that finds or starts the daemon (daemon/client's `Connector`; tests pass a fake). */
  connector: (place: DaemonPlace, launch: DaemonLaunch) => Pick<Connector, 'running'>;
  /** Start-at-login implementation; the platform default when omitted. */
  startAtLogin?: StartAtLogin;
}

/** A screen the app may be asked to open from its command line: one access request, nothing else. */
const OPENABLE = /^requests\/req_[a-z0-9]{16}$/;

/**
 * The screen `--open=ROUTE` names (how the daemon's notification button launches the app, see
 * daemon/notify/app-opener.ts), when it is one the app opens; anything else is ignored: any
 * program may launch the app with any arguments.
 */
export function openRoute(argv: readonly string[] | undefined): string | undefined {
  const arg = argv?.find((a) => a.startsWith('--open='));
  const route = arg?.slice('--open='.length);
  return route && OPENABLE.test(route) ? route : undefined;
}

/** The running app, for tests and for the entry point. */
export interface RunningApp {
  relay: Relay;
  /** Shows the window (made if there is none); `route` (`requests/req_…`) opens that screen. */
  openWindow(route?: string): WindowLike;
  windows(): WindowLike[];
  shutdown(): void;
}

/**
 * Starts bella's main process: one instance only, a secured session and windows, the daemon
 * found or started (it outlives the window), one IPC handler per operation, events forwarded to
 * the renderer, and the tray. Resolves to null when another instance already runs.
 */
export async function startApp(seam: ElectronSeam, config: AppConfig): Promise<RunningApp | null> {
  // One instance: a second launch focuses the first window instead of starting another relay.
  if (!seam.requestSingleInstanceLock()) {
    seam.quit();
    return null;
  }

  const isAppUrl = createAppUrlCheck(config.renderer);
  const openLink = createSafeOpenExternal((url) => seam.openExternal(url));
  seam.onWebContentsCreated((contents) => hardenWebContents(contents, openLink));

  await seam.whenReady();
  hardenSession(seam, isAppUrl);

  const ctx: LaunchContext = {
    isPackaged: seam.isPackaged,
    execPath: seam.execPath,
    resourcesPath: seam.resourcesPath,
    appPath: seam.getAppPath(),
    env: config.env,
  };
  const connector = config.connector({ home: config.home, socket: config.socket }, daemonLaunch(ctx));
  const connection = createDaemonConnection(() => connector.running());
  let tray: TrayController | null = null;
  const relay = new Relay(() => connection.getClient(), {
    onUnavailable: () => connection.markStale(),
    onConnectionChange: (connected) => tray?.setConnected(connected),
  });

  const open = new Map<number, WindowLike>();
  const ownContents = new Set<number>();
  registerIpcHandlers(seam, relay, isAppUrl, ownContents);
  const stopForwarding = forwardEvents(relay, () => [...open.values()].map((w) => w.webContents), isAppUrl);

  connection.getClient().catch((err: unknown) => {
    console.error(`bella: the daemon is not available yet: ${err instanceof Error ? err.message : String(err)}`);
  });

  function load(win: WindowLike, route: string | undefined): void {
    const hash = route ? `/${route}` : undefined;
    const loaded =
      config.renderer.kind === 'file'
        ? win.loadFile(config.renderer.file, hash ? { hash } : undefined)
        : win.loadURL(hash ? `${config.renderer.url}#${hash}` : config.renderer.url);
    loaded.catch((err: unknown) => console.error('bella: could not load the window:', err));
  }

  function openWindow(route?: string): WindowLike {
    const existing = [...open.values()].find((w) => !w.isDestroyed());
    if (existing) {
      if (route) load(existing, route);
      if (existing.isMinimized()) existing.restore();
      existing.show();
      existing.focus();
      return existing;
    }
    const win = seam.createWindow(secureWindowOptions(config.preload, config.windowIcon));
    const id = win.webContents.id;
    open.set(id, win);
    ownContents.add(id);
    win.once('ready-to-show', () => win.show());
    win.on('closed', () => {
      open.delete(id);
      ownContents.delete(id);
    });
    load(win, route);
    return win;
  }

  let shuttingDown = false;
  function shutdown(): void {
    if (shuttingDown) return;
    shuttingDown = true;
    tray?.dispose();
    stopForwarding();
    relay.close();
    connection.close();
  }

  const startAtLogin = config.startAtLogin ?? createStartAtLogin(seam, launchCommand(ctx));
  let trayCreated = false;
  try {
    const icon = seam.createTray(config.trayIcon);
    trayCreated = true;
    tray = new TrayController({
      tray: icon,
      relay,
      startAtLogin,
      actions: { open: () => void openWindow(), quit: () => seam.quit() },
    });
  } catch (err) {
    console.error('bella: no tray icon on this desktop:', err);
  }

  // A second launch (`bella-desktop --open=requests/req_…` from a notification's button) shows its screen here.
  seam.onAppEvent('second-instance', (argv) => void openWindow(openRoute(argv)));
  seam.onAppEvent('activate', () => void openWindow());
  // Closing the window keeps bella in the tray; without a tray, closing it quits (the daemon keeps running either way).
  seam.onAppEvent('window-all-closed', () => {
    if (!trayCreated) seam.quit();
  });
  seam.onAppEvent('before-quit', shutdown);

  if (!seam.argv.includes(HIDDEN_FLAG) || !trayCreated || openRoute(seam.argv)) openWindow(openRoute(seam.argv));

  return { relay, openWindow, windows: () => [...open.values()], shutdown };
}
