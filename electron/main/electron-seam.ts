import { BrowserWindow, Menu, Tray, app, ipcMain, session, shell, type WebContents } from 'electron';
import type { ElectronSeam, PermissionRequest, WebContentsLike, WindowLike } from './seam';

/** The real {@link ElectronSeam}: a thin adapter over the electron module, with no logic of its own. */
export function createElectronSeam(): ElectronSeam {
  const contentsOf = (c: WebContents) => c as unknown as WebContentsLike;
  return {
    platform: process.platform,
    isPackaged: app.isPackaged,
    execPath: process.execPath,
    resourcesPath: process.resourcesPath,
    getAppPath: () => app.getAppPath(),
    argv: process.argv,
    requestSingleInstanceLock: () => app.requestSingleInstanceLock(),
    whenReady: () => app.whenReady(),
    quit: () => app.quit(),
    onAppEvent: (event, listener) => {
      // second-instance: (event, argv, workingDirectory); the others: (event) only.
      app.on(event as 'second-instance', (_e: unknown, argv?: unknown) =>
        listener(Array.isArray(argv) ? (argv as string[]) : undefined),
      );
    },
    onWebContentsCreated: (listener) => {
      app.on('web-contents-created', (_e, contents) => listener(contentsOf(contents)));
    },
    createWindow: (options) => new BrowserWindow(options) as unknown as WindowLike,
    handleIpc: (channel, handler) => ipcMain.handle(channel, handler),
    session: {
      setPermissionRequestHandler: (handler) =>
        session.defaultSession.setPermissionRequestHandler((contents, permission, callback, details) =>
          callback(
            handler({
              permission,
              requestingUrl: details.requestingUrl ?? contents.getURL(),
              isMainFrame: details.isMainFrame,
            }),
          ),
        ),
      setPermissionCheckHandler: (handler) =>
        session.defaultSession.setPermissionCheckHandler((contents, permission, origin, details) => {
          const request: PermissionRequest = {
            permission,
            requestingUrl: details.requestingUrl ?? contents?.getURL() ?? origin,
            isMainFrame: details.isMainFrame,
          };
          return handler(request);
        }),
      onHeadersReceived: (listener) =>
        session.defaultSession.webRequest.onHeadersReceived((details, callback) =>
          callback({ responseHeaders: listener(details.responseHeaders ?? {}) as Record<string, string[]> }),
        ),
    },
    createTray: (iconPath) => {
      const tray = new Tray(iconPath);
      return {
        setToolTip: (text) => tray.setToolTip(text),
        setContextMenu: (items) => tray.setContextMenu(Menu.buildFromTemplate(items)),
        onClick: (listener) => {
          tray.on('click', listener);
        },
        destroy: () => tray.destroy(),
      };
    },
    openExternal: (url) => shell.openExternal(url),
    getLoginItemSettings: () => app.getLoginItemSettings(),
    setLoginItemSettings: (settings) => app.setLoginItemSettings(settings),
  };
}
