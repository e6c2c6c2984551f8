import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { DaemonEvent } from '../../daemon/api/events';
import { ADMIN_OPERATION_NAMES, EVENT_CHANNEL, channelOf, type RelayResult } from '../ipc/contract';
import { buildBellaApi, createBellaApi, type EventSubscribe, type OperationCalls } from './api';

// One function per operation, each bound to its own channel: the page never gets ipcRenderer
// (which would let injected script talk to any channel).
const calls: OperationCalls = {};
for (const op of ADMIN_OPERATION_NAMES) {
  calls[op] = (input: unknown) => ipcRenderer.invoke(channelOf(op), input) as Promise<RelayResult>;
}

const subscribe: EventSubscribe = (cb) => {
  // Hand over only the event, never the IpcRendererEvent (its `sender` is ipcRenderer).
  const handler = (_e: IpcRendererEvent, event: DaemonEvent) => cb(event);
  ipcRenderer.on(EVENT_CHANNEL, handler);
  return () => {
    ipcRenderer.removeListener(EVENT_CHANNEL, handler);
  };
};

try {
  // Build window.bella in the page's world so its errors keep `code` and `details`.
  contextBridge.executeInMainWorld({ func: buildBellaApi, args: [ADMIN_OPERATION_NAMES, calls, subscribe, 'bella'] });
} catch (err) {
  console.error('bella: could not build the API in the page world, falling back to exposeInMainWorld:', err);
  contextBridge.exposeInMainWorld(
    'bella',
    createBellaApi((op, input) => calls[op]!(input), subscribe),
  );
}
