// Bundled for the browser by the e2e harness and run as an init script: it builds `window.bella`
// with the preload's own createBellaApi, over functions the harness exposes in place of Electron IPC.
import type { DaemonEvent } from '../../daemon/api/events';
import type { RelayResult } from '../../electron/ipc/contract';
import { createBellaApi } from '../../electron/preload/api';

interface BridgeWindow {
  __bellaInvoke(op: string, input: unknown): Promise<RelayResult>;
  __bellaEmit?: (event: DaemonEvent) => void;
}

const w = window as unknown as BridgeWindow;
const listeners = new Set<(e: DaemonEvent) => void>();
w.__bellaEmit = (event) => {
  for (const l of [...listeners]) l(event);
};
const api = createBellaApi(
  (op, input) => w.__bellaInvoke(op, input),
  (cb) => {
    listeners.add(cb);
    return () => {
      listeners.delete(cb);
    };
  },
);
Object.defineProperty(window, 'bella', { value: api, enumerable: true });
