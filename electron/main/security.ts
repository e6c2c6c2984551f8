import { pathToFileURL } from 'node:url';
import type { ElectronSeam, IpcInvokeEventLike, PermissionRequest, WebContentsLike, WindowOptions } from './seam';

/** Where the renderer is loaded from: the built file, or (development only) the Vite dev server. */
export type RendererLocation = { kind: 'file'; file: string } | { kind: 'url'; url: string };

/**
 * The Content-Security-Policy set as a response header (the renderer's index.html carries the
 * same policy as a meta tag): only the app's own scripts run, nothing loads from elsewhere.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Hosts that external links may open in the system browser (https only). */
export const EXTERNAL_LINK_HOSTS: readonly string[] = ['github.com', 'www.electronjs.org'];

/** The only permissions granted, and only to the app's own page: copying a token or secret. */
const GRANTED_PERMISSIONS: readonly string[] = ['clipboard-sanitized-write'];

/** The options of every bella window: the Electron security checklist, in one place. */
export function secureWindowOptions(preload: string, icon?: string): WindowOptions {
  return {
    width: 1180,
    height: 760,
    minWidth: 880,
    minHeight: 560,
    show: false,
    title: 'bella',
    backgroundColor: '#111318',
    ...(icon ? { icon } : {}),
    autoHideMenuBar: true,
    webPreferences: {
      preload,
      // Page scripts and the preload live in separate JavaScript worlds (defends against prototype pollution of the bridge).
      contextIsolation: true,
      // The renderer runs in Chromium's OS sandbox with no Node (defends against a renderer exploit reaching the system).
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      // Same-origin policy stays on; no http content inside the https/file page (defends against injected remote code).
      webSecurity: true,
      allowRunningInsecureContent: false,
      // No <webview> and no experimental web platform features (less attack surface).
      webviewTag: false,
      experimentalFeatures: false,
      spellcheck: false,
    },
  };
}

/** Decides whether a URL is the app's own renderer page. */
export function createAppUrlCheck(location: RendererLocation): (url: string) => boolean {
  if (location.kind === 'file') {
    const expected = pathToFileURL(location.file);
    return (url) => {
      const u = parseUrl(url);
      return u !== null && u.protocol === 'file:' && u.host === expected.host && u.pathname === expected.pathname;
    };
  }
  const origin = new URL(location.url).origin;
  return (url) => parseUrl(url)?.origin === origin;
}

function parseUrl(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/**
 * True when an IPC message comes from the app's own page, in the main frame of one of the app's
 * windows. Anything else (an iframe, a page navigated elsewhere, another web contents) is refused.
 */
export function isTrustedSender(
  event: IpcInvokeEventLike,
  isAppUrl: (url: string) => boolean,
  ownContents: ReadonlySet<number>,
): boolean {
  const frame = event.senderFrame;
  if (!frame) return false;
  if (frame.parent !== null) return false;
  if (!ownContents.has(event.sender.id)) return false;
  return isAppUrl(frame.url);
}

/**
 * Opens a link in the system browser only if it is https and its host is on the allow-list
 * (defends against a page opening file:, smb: or custom-protocol URLs that run programs).
 */
export function createSafeOpenExternal(
  openExternal: (url: string) => Promise<void>,
  allowedHosts: readonly string[] = EXTERNAL_LINK_HOSTS,
): (url: string) => Promise<boolean> {
  return async (url) => {
    const u = parseUrl(url);
    if (!u || u.protocol !== 'https:' || u.username || u.password || !allowedHosts.includes(u.hostname)) return false;
    await openExternal(u.toString());
    return true;
  };
}

/**
 * Locks down any web contents: no navigation, no new windows (an allowed external link opens in
 * the system browser instead), no webviews.
 */
export function hardenWebContents(contents: WebContentsLike, openLink: (url: string) => Promise<boolean>): void {
  // A page must never leave the app's own renderer (defends against navigating to attacker content that then gets the bridge).
  const block = (e: { preventDefault(): void; url: string }) => {
    e.preventDefault();
    void openLink(e.url).catch(() => false);
  };
  contents.on('will-navigate', block);
  contents.on('will-frame-navigate', (e) => e.preventDefault());
  contents.on('will-redirect', (e) => e.preventDefault());
  // No new windows: they would escape these handlers (defends against window.open / target=_blank popups).
  contents.setWindowOpenHandler(({ url }) => {
    void openLink(url).catch(() => false);
    return { action: 'deny' };
  });
  // <webview> could load anything with its own preferences (defends against privilege escalation via webviews).
  contents.on('will-attach-webview', (e) => e.preventDefault());
}

/** Decides permission requests: everything is denied except copying, for the app's own main frame. */
export function createPermissionPolicy(isAppUrl: (url: string) => boolean): (request: PermissionRequest) => boolean {
  // Camera, microphone, geolocation, notifications, … are never needed (defends against a page abusing them).
  return (request) =>
    GRANTED_PERMISSIONS.includes(request.permission) && request.isMainFrame && isAppUrl(request.requestingUrl);
}

/** Applies the session-wide measures: permission policy and the CSP response header. */
export function hardenSession(seam: Pick<ElectronSeam, 'session'>, isAppUrl: (url: string) => boolean): void {
  const policy = createPermissionPolicy(isAppUrl);
  seam.session.setPermissionRequestHandler(policy);
  seam.session.setPermissionCheckHandler(policy);
  // CSP as a header too, so it holds even for a response without the meta tag (defends against XSS running injected script).
  seam.session.onHeadersReceived((headers) => {
    const out: Record<string, string[] | string> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (name.toLowerCase() !== 'content-security-policy') out[name] = value;
    }
    out['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY];
    return out;
  });
}
