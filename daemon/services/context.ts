import type { DaemonEvent } from '../api';
import type { StoredLease, Store } from '../store';

/** Receives lease changes so the expiry engine can (re)schedule them. */
export interface LeaseWatcher {
  /** A lease was issued, renewed or had its expiry changed. */
  changed(lease: StoredLease): void;
  /** A lease ended (revoked, expired, deleted) and needs no more deadlines. */
  ended(leaseId: string): void;
}

/** Fans daemon events out to SSE clients and in-process listeners. */
export class EventBus {
  private readonly listeners = new Set<(event: DaemonEvent) => void>();

  emit(event: DaemonEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** Returns the function that unsubscribes. */
  on(listener: (event: DaemonEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get size(): number {
    return this.listeners.size;
  }
}

/** What every service needs; the clock is injected so expiry is testable. */
export interface ServiceContext {
  store: Store;
  clock: () => number;
  events: EventBus;
  watcher: LeaseWatcher;
  log: (message: string) => void;
}

/** Who is acting, as recorded in the audit trail. */
export type Actor = 'owner' | 'token' | 'daemon';

/** ISO time from epoch milliseconds. */
export const iso = (ms: number) => new Date(ms).toISOString();
