/**
 * The few Electron capabilities the main-process logic uses, as plain interfaces. The real
 * implementation (`electron-seam.ts`) is a thin adapter over the `electron` module; unit tests
 * pass a fake. Nothing here imports Electron.
 */

/** A frame that sent an IPC message (Electron's WebFrameMain, reduced). */
export interface FrameLike {
  readonly url: string;
  /** The parent frame; null for a main frame. */
  readonly parent: FrameLike | null;
}

/** The `event` of an `ipcMain.handle` handler, reduced. */
export interface IpcInvokeEventLike {
  readonly sender: { readonly id: number };
  /** Null when the frame navigated away or was destroyed before the message was handled. */
  readonly senderFrame: FrameLike | null;
}

/** An event whose default action can be cancelled. */
export interface PreventableEvent {
  preventDefault(): void;
}

/** What a window-open handler answers. */
export type WindowOpenResponse = { action: 'deny' } | { action: 'allow' };

/** The web contents of a window (or any other), reduced. */
export interface WebContentsLike {
  readonly id: number;
  send(channel: string, ...args: unknown[]): void;
  getURL(): string;
  isDestroyed(): boolean;
  setWindowOpenHandler(handler: (details: { url: string }) => WindowOpenResponse): void;
  on(
    event: 'will-navigate' | 'will-frame-navigate' | 'will-redirect',
    listener: (e: PreventableEvent & { url: string }) => void,
  ): void;
  on(event: 'will-attach-webview', listener: (e: PreventableEvent) => void): void;
}

/** A browser window, reduced. */
export interface WindowLike {
  readonly webContents: WebContentsLike;
  loadURL(url: string): Promise<void>;
  /** `hash` without its `#`: the screen the renderer opens on (`/requests/req_…`). */
  loadFile(file: string, options?: { hash?: string }): Promise<void>;
  show(): void;
  focus(): void;
  isMinimized(): boolean;
  restore(): void;
  isDestroyed(): boolean;
  once(event: 'ready-to-show', listener: () => void): void;
  on(event: 'closed', listener: () => void): void;
}

/** The options every bella window is created with (a subset of BrowserWindowConstructorOptions). */
export interface WindowOptions {
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  show: boolean;
  title: string;
  backgroundColor: string;
  icon?: string;
  autoHideMenuBar: boolean;
  webPreferences: {
    preload: string;
    contextIsolation: boolean;
    sandbox: boolean;
    nodeIntegration: boolean;
    nodeIntegrationInWorker: boolean;
    nodeIntegrationInSubFrames: boolean;
    webSecurity: boolean;
    allowRunningInsecureContent: boolean;
    webviewTag: boolean;
    experimentalFeatures: boolean;
    spellcheck: boolean;
  };
}

/** A permission request or check, as the session handlers see it. */
export interface PermissionRequest {
  permission: string;
  /** The URL of the frame asking (requestingUrl / requestingOrigin). */
  requestingUrl: string;
  isMainFrame: boolean;
}

/** The default session, reduced. */
export interface SessionLike {
  setPermissionRequestHandler(handler: (request: PermissionRequest) => boolean): void;
  setPermissionCheckHandler(handler: (request: PermissionRequest) => boolean): void;
  /** Rewrites response headers of every request the session makes. */
  onHeadersReceived(listener: (headers: Record<string, string[] | string>) => Record<string, string[] | string>): void;
}

/** One item of the tray menu, as plain data. */
export interface MenuItem {
  label?: string;
  type?: 'normal' | 'separator' | 'checkbox';
  enabled?: boolean;
  checked?: boolean;
  click?: () => void;
}

/** The tray icon, reduced. */
export interface TrayLike {
  setToolTip(text: string): void;
  setContextMenu(items: MenuItem[]): void;
  onClick(listener: () => void): void;
  destroy(): void;
}

/** Start-at-login settings as Electron's app exposes them (macOS and Windows). */
export interface LoginItemSettings {
  openAtLogin: boolean;
  args?: string[];
}

/** The Electron surface the main process needs. */
export interface ElectronSeam {
  readonly platform: NodeJS.Platform;
  readonly isPackaged: boolean;
  /** Electron's own binary (runs the daemon with ELECTRON_RUN_AS_NODE=1 when packaged). */
  readonly execPath: string;
  /** `process.resourcesPath` of a packaged app. */
  readonly resourcesPath: string;
  /** The app's root: the project directory in development, app.asar when packaged. */
  getAppPath(): string;
  /** Command-line arguments of this process. */
  readonly argv: readonly string[];
  requestSingleInstanceLock(): boolean;
  whenReady(): Promise<void>;
  quit(): void;
  /** `argv`: a second launch's command line (`second-instance` only). */
  onAppEvent(
    event: 'second-instance' | 'window-all-closed' | 'activate' | 'before-quit',
    listener: (argv?: readonly string[]) => void,
  ): void;
  /** Runs for every web contents created from now on (windows, webviews, devtools). */
  onWebContentsCreated(listener: (contents: WebContentsLike) => void): void;
  createWindow(options: WindowOptions): WindowLike;
  handleIpc(channel: string, handler: (event: IpcInvokeEventLike, ...args: unknown[]) => unknown): void;
  readonly session: SessionLike;
  createTray(iconPath: string): TrayLike;
  openExternal(url: string): Promise<void>;
  getLoginItemSettings(): LoginItemSettings;
  setLoginItemSettings(settings: LoginItemSettings): void;
}
