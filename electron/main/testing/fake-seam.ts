import type {
  ElectronSeam,
  FrameLike,
  IpcInvokeEventLike,
  LoginItemSettings,
  MenuItem,
  PermissionRequest,
  PreventableEvent,
  SessionLike,
  TrayLike,
  WebContentsLike,
  WindowLike,
  WindowOpenResponse,
  WindowOptions,
} from '../seam';

/** A preventable event as the fakes fire it. */
export class FakeEvent implements PreventableEvent {
  prevented = false;
  constructor(readonly url = '') {}
  preventDefault(): void {
    this.prevented = true;
  }
}

/** Web contents that record what main did to them. */
export class FakeWebContents implements WebContentsLike {
  static nextId = 1;
  readonly id = FakeWebContents.nextId++;
  url = '';
  destroyed = false;
  readonly sent: Array<[string, unknown[]]> = [];
  readonly listeners = new Map<string, Array<(e: FakeEvent) => void>>();
  openHandler: ((details: { url: string }) => WindowOpenResponse) | null = null;

  send(channel: string, ...args: unknown[]): void {
    this.sent.push([channel, args]);
  }
  getURL(): string {
    return this.url;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  setWindowOpenHandler(handler: (details: { url: string }) => WindowOpenResponse): void {
    this.openHandler = handler;
  }
  on(event: string, listener: (e: FakeEvent) => void): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }
  /** Fires an event at every listener; returns it so a test can see whether it was prevented. */
  fire(event: string, url = ''): FakeEvent {
    const e = new FakeEvent(url);
    for (const l of this.listeners.get(event) ?? []) l(e);
    return e;
  }
  /** A main frame (or, with a parent, a subframe) of these contents showing `url`. */
  frame(url = this.url, parent: FrameLike | null = null): FrameLike {
    return { url, parent };
  }
  /** An IPC invoke event from these contents. */
  ipcEvent(frame: FrameLike | null = this.frame()): IpcInvokeEventLike {
    return { sender: { id: this.id }, senderFrame: frame };
  }
}

/** A window that records its options and loads. */
export class FakeWindow implements WindowLike {
  readonly webContents = new FakeWebContents();
  readonly loaded: string[] = [];
  shown = 0;
  focused = 0;
  destroyed = false;
  private readonly handlers = new Map<string, Array<() => void>>();
  constructor(readonly options: WindowOptions) {}

  async loadURL(url: string): Promise<void> {
    this.loaded.push(url);
    this.webContents.url = url;
  }
  async loadFile(file: string, options?: { hash?: string }): Promise<void> {
    this.loaded.push(options?.hash ? `${file}#${options.hash}` : file);
    this.webContents.url = new URL(`file://${file}`).toString();
  }
  show(): void {
    this.shown += 1;
  }
  focus(): void {
    this.focused += 1;
  }
  isMinimized(): boolean {
    return false;
  }
  restore(): void {}
  isDestroyed(): boolean {
    return this.destroyed;
  }
  once(event: string, listener: () => void): void {
    this.on(event, listener);
  }
  on(event: string, listener: () => void): void {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), listener]);
  }
  emit(event: string): void {
    for (const l of this.handlers.get(event) ?? []) l();
  }
  close(): void {
    this.destroyed = true;
    this.webContents.destroyed = true;
    this.emit('closed');
  }
}

/** A tray that records its menu. */
export class FakeTray implements TrayLike {
  tooltip = '';
  menu: MenuItem[] = [];
  clickListeners: Array<() => void> = [];
  destroyed = false;
  constructor(readonly icon: string) {}
  setToolTip(text: string): void {
    this.tooltip = text;
  }
  setContextMenu(items: MenuItem[]): void {
    this.menu = items;
  }
  onClick(listener: () => void): void {
    this.clickListeners.push(listener);
  }
  destroy(): void {
    this.destroyed = true;
  }
  /** The labels of the menu, in order (separators as '—'). */
  labels(): string[] {
    return this.menu.map((i) => (i.type === 'separator' ? '—' : (i.label ?? '')));
  }
  item(label: RegExp): MenuItem {
    const found = this.menu.find((i) => i.label !== undefined && label.test(i.label));
    if (!found) throw new Error(`no menu item ${label}`);
    return found;
  }
}

/** A fake of the whole Electron surface, recording everything main does. */
export class FakeSeam implements ElectronSeam {
  platform: NodeJS.Platform = 'linux';
  isPackaged = false;
  execPath = '/opt/bella/bella';
  resourcesPath = '/opt/bella/resources';
  argv: string[] = ['/opt/bella/bella'];
  appPath = '/src/bella';
  lock = true;
  quits = 0;
  trayFails = false;
  readonly appListeners = new Map<string, Array<(argv?: readonly string[]) => void>>();
  readonly contentsListeners: Array<(c: WebContentsLike) => void> = [];
  readonly windows: FakeWindow[] = [];
  readonly ipc = new Map<string, (event: IpcInvokeEventLike, ...args: unknown[]) => unknown>();
  readonly trays: FakeTray[] = [];
  readonly opened: string[] = [];
  login: LoginItemSettings = { openAtLogin: false };
  permissionRequest: ((r: PermissionRequest) => boolean) | null = null;
  permissionCheck: ((r: PermissionRequest) => boolean) | null = null;
  headers: ((h: Record<string, string[] | string>) => Record<string, string[] | string>) | null = null;

  readonly session: SessionLike = {
    setPermissionRequestHandler: (h) => {
      this.permissionRequest = h;
    },
    setPermissionCheckHandler: (h) => {
      this.permissionCheck = h;
    },
    onHeadersReceived: (l) => {
      this.headers = l;
    },
  };

  getAppPath(): string {
    return this.appPath;
  }
  requestSingleInstanceLock(): boolean {
    return this.lock;
  }
  async whenReady(): Promise<void> {}
  quit(): void {
    this.quits += 1;
  }
  onAppEvent(event: string, listener: (argv?: readonly string[]) => void): void {
    this.appListeners.set(event, [...(this.appListeners.get(event) ?? []), listener]);
  }
  emitApp(event: string, argv?: readonly string[]): void {
    for (const l of this.appListeners.get(event) ?? []) l(argv);
  }
  onWebContentsCreated(listener: (contents: WebContentsLike) => void): void {
    this.contentsListeners.push(listener);
  }
  /** Web contents created outside any window (a devtools or webview host, say). */
  createContents(): FakeWebContents {
    const c = new FakeWebContents();
    for (const l of this.contentsListeners) l(c);
    return c;
  }
  createWindow(options: WindowOptions): WindowLike {
    const win = new FakeWindow(options);
    for (const l of this.contentsListeners) l(win.webContents);
    this.windows.push(win);
    return win;
  }
  handleIpc(channel: string, handler: (event: IpcInvokeEventLike, ...args: unknown[]) => unknown): void {
    if (this.ipc.has(channel)) throw new Error(`second handler for ${channel}`);
    this.ipc.set(channel, handler);
  }
  /** Calls a registered handler as ipcRenderer.invoke would. */
  async invoke(channel: string, event: IpcInvokeEventLike, ...args: unknown[]): Promise<unknown> {
    const h = this.ipc.get(channel);
    if (!h) throw new Error(`No handler registered for '${channel}'`);
    return h(event, ...args);
  }
  createTray(iconPath: string): TrayLike {
    if (this.trayFails) throw new Error('no tray here');
    const t = new FakeTray(iconPath);
    this.trays.push(t);
    return t;
  }
  async openExternal(url: string): Promise<void> {
    this.opened.push(url);
  }
  getLoginItemSettings(): LoginItemSettings {
    return this.login;
  }
  setLoginItemSettings(settings: LoginItemSettings): void {
    this.login = settings;
  }
}
