import type { DaemonEvent } from '../api';

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
