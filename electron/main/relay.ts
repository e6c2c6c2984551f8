import { invalidInput, isBellaError, operations, type DaemonEvent, type OperationName } from '../../daemon/api';
import type { DaemonClient } from '../../daemon/client';
import { isAdminOperation, type RelayError, type RelayResult } from '../ipc/contract';
import { EventStream, type EventStreamOptions } from './event-stream';

/** Hooks and tuning of a {@link Relay}: those of its event stream. */
export type RelayOptions = EventStreamOptions;

/** Maps anything thrown to the wire error form; only a {@link BellaError} keeps its code. */
export function toRelayError(err: unknown): RelayError {
  if (isBellaError(err)) {
    return { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message: `internal error: ${message}` };
}

/**
 * The relay between a client (the renderer, over IPC or a test bridge) and the daemon: calls go
 * through {@link invoke}, events come from one shared {@link EventStream}, started by the first
 * listener and stopped when the last one leaves. `getClient` returns a client of a live daemon
 * (finding or starting one); it is called again after the daemon stopped answering.
 */
export class Relay {
  private readonly listeners = new Set<(e: DaemonEvent) => void>();
  private stream: EventStream | null = null;
  private closed = false;

  constructor(
    private readonly getClient: () => Promise<DaemonClient>,
    private readonly options: RelayOptions = {},
  ) {}

  /** Validates and calls one admin-plane operation; never throws. */
  async invoke(op: string, input: unknown): Promise<RelayResult> {
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
      return { ok: true, value: await this.call(op, parsed.data) };
    } catch (err) {
      if (isBellaError(err, 'unavailable')) {
        this.options.onUnavailable?.(err);
        // A read is safe to repeat once the daemon is found (or started) again; a write is not.
        if (operations[op].method === 'GET') {
          try {
            return { ok: true, value: await this.call(op, parsed.data) };
          } catch (retryErr) {
            return { ok: false, error: toRelayError(retryErr) };
          }
        }
      }
      return { ok: false, error: toRelayError(err) };
    }
  }

  /** Receives every daemon event over one shared, self-reconnecting subscription. */
  subscribe(listener: (e: DaemonEvent) => void): () => void {
    if (this.closed) return () => {};
    this.listeners.add(listener);
    this.stream ??= new EventStream(this.getClient, (event) => this.emit(event), this.options);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopStream();
    };
  }

  /** Stops the event subscription and drops all listeners. */
  close(): void {
    this.closed = true;
    this.listeners.clear();
    this.stopStream();
  }

  private emit(event: DaemonEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        console.error('bella: an event listener failed:', err);
      }
    }
  }

  private stopStream(): void {
    this.stream?.stop();
    this.stream = null;
  }

  private async call(op: OperationName, args: unknown): Promise<unknown> {
    const client = await this.getClient();
    return client.call(op, args as never);
  }
}

/** The relay of `getClient` (test/e2e/harness.ts builds its relay with this). */
export function createRelay(getClient: () => Promise<DaemonClient>, options: RelayOptions = {}): Relay {
  return new Relay(getClient, options);
}
