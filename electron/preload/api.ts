import type { DaemonEvent } from '../../daemon/api/events';
import { ADMIN_OPERATION_NAMES, type BellaApi, type RelayResult } from '../ipc/contract';

/** One call per operation name, answering errors as values. */
export type OperationCalls = Record<string, (input: unknown) => Promise<RelayResult>>;

/** Subscribes to daemon events; returns the unsubscribe function. */
export type EventSubscribe = (cb: (e: DaemonEvent) => void) => () => void;

/**
 * Builds the `window.bella` object from one call per operation, turning `{ ok: false }` into a
 * thrown `BellaApiError`. With `globalName` it also defines that global (read-only).
 *
 * This function is self-contained (it uses nothing outside its own body), so the preload can run
 * it in the page's own world with `contextBridge.executeInMainWorld`: an Error that crosses the
 * contextBridge keeps only its message, so the error must be created on the page's side.
 * `api.test.ts` checks it still runs after serialisation.
 */
export function buildBellaApi(
  names: readonly string[],
  calls: OperationCalls,
  subscribe: EventSubscribe,
  globalName?: string,
): BellaApi {
  const fail = (code: string, message: string, details?: unknown) => {
    const err = new Error(message) as Error & { code: string; details?: unknown };
    err.name = 'BellaApiError';
    err.code = code;
    if (details !== undefined) err.details = details;
    return err;
  };
  const api: Record<string, unknown> = {};
  for (const name of names) {
    const call = calls[name];
    if (typeof call !== 'function') throw new Error(`bella: no call for ${name}`);
    api[name] = async (input?: unknown) => {
      let result: RelayResult;
      try {
        result = await call(input === undefined ? {} : input);
      } catch (err) {
        throw fail('internal', err instanceof Error ? err.message : String(err));
      }
      if (result.ok) return result.value;
      throw fail(result.error.code, result.error.message, result.error.details);
    };
  }
  api.onEvent = (cb: (e: DaemonEvent) => void) => {
    if (typeof cb !== 'function') throw new TypeError('onEvent needs a function');
    return subscribe(cb);
  };
  Object.freeze(api);
  if (globalName) Object.defineProperty(globalThis, globalName, { value: api, enumerable: true });
  return api as unknown as BellaApi;
}

/** `window.bella` over a generic `invoke(op, input)` transport (the relay itself, or a test bridge). */
export function createBellaApi(
  invoke: (op: string, input: unknown) => Promise<RelayResult>,
  subscribe: EventSubscribe,
): BellaApi {
  const calls: OperationCalls = {};
  for (const op of ADMIN_OPERATION_NAMES) calls[op] = (input) => invoke(op, input);
  return buildBellaApi(ADMIN_OPERATION_NAMES, calls, subscribe);
}
