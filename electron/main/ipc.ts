import { ADMIN_OPERATION_NAMES, EVENT_CHANNEL, channelOf, type RelayResult } from '../ipc/contract';
import type { Relay } from './relay';
import type { ElectronSeam, IpcInvokeEventLike, WebContentsLike } from './seam';
import { isTrustedSender } from './security';

/** What an untrusted frame gets back: an error value; the daemon is never called. */
export const UNTRUSTED_SENDER: RelayResult = {
  ok: false,
  error: { code: 'permission_denied', message: 'this page may not call bella' },
};

/**
 * Registers one `ipcMain.handle('bella:<op>')` per admin operation of the contract. Every call
 * checks its sender frame first: only the main frame of one of the app's windows showing the
 * app's own page reaches the relay.
 */
export function registerIpcHandlers(
  seam: Pick<ElectronSeam, 'handleIpc'>,
  relay: Pick<Relay, 'invoke'>,
  isAppUrl: (url: string) => boolean,
  ownContents: ReadonlySet<number>,
): string[] {
  const channels: string[] = [];
  for (const op of ADMIN_OPERATION_NAMES) {
    const channel = channelOf(op);
    seam.handleIpc(channel, async (event: IpcInvokeEventLike, input: unknown) => {
      // Checked on every call, not once per window: frames can navigate or be injected (defends against foreign pages using the bridge).
      if (!isTrustedSender(event, isAppUrl, ownContents)) return UNTRUSTED_SENDER;
      return relay.invoke(op, input);
    });
    channels.push(channel);
  }
  return channels;
}

/** Forwards daemon events to every live app window still showing the app's own page. */
export function forwardEvents(
  relay: Pick<Relay, 'subscribe'>,
  windows: () => Iterable<WebContentsLike>,
  isAppUrl: (url: string) => boolean,
): () => void {
  return relay.subscribe((event) => {
    for (const contents of windows()) {
      if (!contents.isDestroyed() && isAppUrl(contents.getURL())) contents.send(EVENT_CHANNEL, event);
    }
  });
}
