import {
  BellaError,
  ERROR_CODES,
  invalidInput,
  operations,
  type DaemonEvent,
  type OperationName,
} from '../../daemon/api';
import type { DaemonClient } from '../../daemon/client';
import { isAdminOperation, type RelayError, type RelayResult } from '../ipc/contract';

/** The relay between a client (the renderer, over IPC or a test bridge) and the daemon. */
export interface Relay {
  /** Validates and calls one admin-plane operation; never throws. */
  invoke(op: string, input: unknown): Promise<RelayResult>;
  /** Receives every daemon event over one shared, self-reconnecting subscription. */
  subscribe(listener: (e: DaemonEvent) => void): () => void;
  /** Stops the event subscription and drops all listeners. */
  close(): void;
}

/** Tuning and hooks of {@link createRelay}. */
export interface RelayOptions {
  /** Called when the daemon stops answering, so the caller can find or start it again. */
  onUnavailable?: (err: unknown) => void;
  /** Called when the event stream connects (true) or drops (false). */
  onConnectionChange?: (connected: boolean) => void;
  /** Reconnect delays: the first retry after `initialMs`, doubling up to `maxMs`. */
  backoff?: { initialMs: number; maxMs: number };
}

const RESYNC_RESOURCES = ['projects', 'environments', 'secrets', 'policy', 'notifications'] as const;

/** Maps anything thrown to the wire error form; only a {@link BellaError} keeps its code. */
export function toRelayError(err: unknown): RelayError {
  if (err instanceof BellaError || isBellaErrorLike(err)) {
    return { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message: `internal error: ${message}` };
}

function isBellaErrorLike(err: unknown): err is BellaError {
  const e = err as Partial<BellaError> | null;
  return (
    err instanceof Error &&
    e?.name === 'BellaError' &&
    typeof e.message === 'string' &&
    (ERROR_CODES as readonly unknown[]).includes(e.code)
  );
}

/**
 * Creates the relay. `getClient` returns a client of a live daemon (finding or starting one);
 * it is called again after the daemon stopped answering.
 */
export function createRelay(getClient: () => Promise<DaemonClient>, options: RelayOptions = {}): Relay {
  const initialMs = options.backoff?.initialMs ?? 250;
  const maxMs = options.backoff?.maxMs ?? 5_000;
  const listeners = new Set<(e: DaemonEvent) => void>();
  let stream: { stop(): void } | null = null;
  let closed = false;

  function emit(event: DaemonEvent): void {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (err) {
        console.error('bella: an event listener failed:', err);
      }
    }
  }

  function startStream(): { stop(): void } {
    let stopped = false;
    let stopCurrent: (() => void) | null = null;
    let interrupt: (() => void) | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const loop = async () => {
      let attempt = 0;
      let connectedBefore = false;
      while (!stopped) {
        try {
          const client = await getClient();
          if (stopped) return;
          await new Promise<void>((resolve) => {
            interrupt = resolve;
            client
              .subscribe(emit, () => resolve())
              .then(
                (stop) => {
                  if (stopped) {
                    stop();
                    resolve();
                    return;
                  }
                  stopCurrent = stop;
                  attempt = 0;
                  options.onConnectionChange?.(true);
                  // What changed while disconnected (say, across a daemon restart) is unknown: ask listeners to refetch.
                  if (connectedBefore) {
                    const at = new Date().toISOString();
                    for (const resource of RESYNC_RESOURCES) emit({ type: 'DataChanged', at, resource });
                  }
                  connectedBefore = true;
                },
                (err: unknown) => {
                  options.onUnavailable?.(err);
                  resolve();
                },
              );
          });
          interrupt = null;
          if (stopCurrent) {
            (stopCurrent as () => void)();
            stopCurrent = null;
            options.onConnectionChange?.(false);
            if (!stopped) options.onUnavailable?.(new BellaError('unavailable', 'the daemon event stream ended'));
          }
        } catch (err) {
          options.onUnavailable?.(err);
        }
        if (stopped) return;
        await new Promise<void>((resolve) => {
          interrupt = resolve;
          timer = setTimeout(resolve, Math.min(maxMs, initialMs * 2 ** attempt));
        });
        interrupt = null;
        attempt += 1;
      }
    };
    void loop();
    return {
      stop() {
        stopped = true;
        clearTimeout(timer);
        const stop = stopCurrent;
        stopCurrent = null;
        stop?.();
        (interrupt as (() => void) | null)?.();
      },
    };
  }

  function stopStreaming(): void {
    stream?.stop();
    stream = null;
  }

  async function call(op: OperationName, args: unknown): Promise<unknown> {
    const client = await getClient();
    return client.call(op, args as never);
  }

  return {
    async invoke(op, input) {
      // Only admin-plane names reach the daemon: a compromised renderer cannot pick arbitrary routes.
      if (!isAdminOperation(op) || operations[op]?.plane !== 'admin') {
        return {
          ok: false,
          error: { code: 'permission_denied', message: `${String(op)} is not an operation the desktop app may call` },
        };
      }
      // Validate before the daemon sees anything (and strip unknown fields).
      const parsed = operations[op].input.safeParse(input ?? {});
      if (!parsed.success) return { ok: false, error: toRelayError(invalidInput(parsed.error.issues)) };
      try {
        return { ok: true, value: await call(op, parsed.data) };
      } catch (err) {
        if (err instanceof BellaError && err.code === 'unavailable') {
          options.onUnavailable?.(err);
          // A read is safe to repeat once the daemon is found (or started) again; a write is not.
          if (operations[op].method === 'GET') {
            try {
              return { ok: true, value: await call(op, parsed.data) };
            } catch (retryErr) {
              return { ok: false, error: toRelayError(retryErr) };
            }
          }
        }
        return { ok: false, error: toRelayError(err) };
      }
    },

    subscribe(listener) {
      if (closed) return () => {};
      listeners.add(listener);
      stream ??= startStream();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) stopStreaming();
      };
    },

    close() {
      closed = true;
      listeners.clear();
      stopStreaming();
    },
  };
}
