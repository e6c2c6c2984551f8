import { BellaError, type DaemonEvent } from '../../daemon/api';
import type { DaemonClient } from '../../daemon/client';

/** Hooks and tuning of an {@link EventStream} (the relay passes its own options through). */
export interface EventStreamOptions {
  /** Called when the daemon stops answering, so the caller can find or start it again. */
  onUnavailable?: (err: unknown) => void;
  /** Called when the event stream connects (true) or drops (false). */
  onConnectionChange?: (connected: boolean) => void;
  /** Reconnect delays: the first retry after `initialMs`, doubling up to `maxMs`. */
  backoff?: { initialMs: number; maxMs: number };
}

/** What listeners are told to refetch after a reconnect: anything may have changed meanwhile. */
const RESYNC_RESOURCES = ['projects', 'environments', 'secrets', 'policy', 'notifications'] as const;

/**
 * One subscription to the daemon's events that reconnects by itself: it follows a client's stream
 * until it ends, waits (backing off), finds the daemon again through `getClient`, and after a
 * reconnect emits a `DataChanged` per resource, since what changed in between is unknown.
 * It starts at construction and runs until {@link stop}.
 */
export class EventStream {
  private stopped = false;
  private connectedBefore = false;
  /** Ends the current client subscription. */
  private stopCurrent: (() => void) | null = null;
  /** Ends the current wait (for the stream to end, or for the backoff). */
  private interrupt: (() => void) | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly getClient: () => Promise<DaemonClient>,
    private readonly emit: (event: DaemonEvent) => void,
    private readonly options: EventStreamOptions = {},
  ) {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    const stop = this.stopCurrent;
    this.stopCurrent = null;
    stop?.();
    this.interrupt?.();
  }

  private async run(): Promise<void> {
    const initialMs = this.options.backoff?.initialMs ?? 250;
    const maxMs = this.options.backoff?.maxMs ?? 5_000;
    let attempt = 0;
    while (!this.stopped) {
      try {
        const client = await this.getClient();
        if (this.stopped) return;
        if (await this.follow(client)) attempt = 0;
      } catch (err) {
        this.options.onUnavailable?.(err);
      }
      if (this.stopped) return;
      await this.pause(Math.min(maxMs, initialMs * 2 ** attempt));
      attempt += 1;
    }
  }

  /** Follows one client's stream until it ends or the stream is stopped; true if it connected. */
  private async follow(client: DaemonClient): Promise<boolean> {
    let connected = false;
    await new Promise<void>((resolve) => {
      this.interrupt = resolve;
      client
        .subscribe(this.emit, () => resolve())
        .then(
          (stop) => {
            if (this.stopped) {
              stop();
              resolve();
              return;
            }
            this.stopCurrent = stop;
            connected = true;
            this.options.onConnectionChange?.(true);
            if (this.connectedBefore) this.resync();
            this.connectedBefore = true;
          },
          (err: unknown) => {
            this.options.onUnavailable?.(err);
            resolve();
          },
        );
    });
    this.interrupt = null;
    const stop = this.stopCurrent;
    if (stop) {
      stop();
      this.stopCurrent = null;
      this.options.onConnectionChange?.(false);
      if (!this.stopped) this.options.onUnavailable?.(new BellaError('unavailable', 'the daemon event stream ended'));
    }
    return connected;
  }

  /** Asks listeners to refetch everything. */
  private resync(): void {
    const at = new Date().toISOString();
    for (const resource of RESYNC_RESOURCES) this.emit({ type: 'DataChanged', at, resource });
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.interrupt = resolve;
      this.timer = setTimeout(resolve, ms);
    }).then(() => {
      this.interrupt = null;
    });
  }
}
