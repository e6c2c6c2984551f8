import type { IncomingMessage, ServerResponse } from 'node:http';
import { BellaError, type DaemonEvent } from '../api';
import type { EventBus } from '../services';

/** Limits of the event stream. */
export interface EventStreamLimits {
  /** Subscribers at once; more are answered 503. Default 64. */
  maxSubscribers: number;
  /** Bytes queued for one subscriber before it is dropped as too slow. Default 256 KiB. */
  maxBufferedBytes: number;
}

const DEFAULTS: EventStreamLimits = { maxSubscribers: 64, maxBufferedBytes: 256 * 1024 };
/** How long a dropped reader may take to read its backlog before it is cut off. */
const DROP_GRACE_MS = 10_000;

/**
 * `/v1/events`: daemon events as Server-Sent Events, bounded so readers cannot grow the daemon's
 * memory: a cap on subscribers, and a subscriber whose unread backlog passes the limit is
 * dropped with a last `Dropped` event saying why (it reconnects and refetches).
 */
export class EventStreams {
  /** Every open stream, dropped ones included until they close: each counts against the cap. */
  private readonly streams = new Set<ServerResponse>();
  private readonly dropped = new WeakSet<ServerResponse>();
  private readonly limits: EventStreamLimits;

  constructor(
    private readonly events: EventBus,
    limits: Partial<EventStreamLimits> = {},
  ) {
    this.limits = { ...DEFAULTS, ...limits };
  }

  /** Subscribers connected now. */
  get size(): number {
    return this.streams.size;
  }

  /** Serves one subscriber; throws `unavailable` (503) when the cap is reached. */
  attach(request: IncomingMessage, res: ServerResponse): void {
    if (this.streams.size >= this.limits.maxSubscribers) {
      throw new BellaError(
        'unavailable',
        `too many event subscribers (${this.limits.maxSubscribers}): close another bella window or client and retry`,
      );
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write(': connected\n\n');
    this.streams.add(res);
    const send = (frame: string) => {
      if (this.dropped.has(res)) return;
      if (res.writableLength > this.limits.maxBufferedBytes) {
        this.drop(res, 'this subscriber fell behind (events were not read): reconnect and refetch');
        return;
      }
      res.write(frame);
    };
    const off = this.events.on((event: DaemonEvent) =>
      send(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`),
    );
    const heartbeat = setInterval(() => send(': keep-alive\n\n'), 15_000);
    heartbeat.unref();
    request.on('close', () => {
      off();
      clearInterval(heartbeat);
    });
    // A dropped stream holds its place until its connection is gone, backlog and all.
    res.socket?.on('close', () => this.streams.delete(res));
  }

  /**
   * Ends a stream whose reader fell behind, with a last event saying so after its backlog. It
   * still counts against the cap until it closes, so dropped readers cannot pile up; one that does
   * not read its backlog within the grace period is cut off.
   */
  private drop(res: ServerResponse, reason: string): void {
    this.dropped.add(res);
    res.end(`event: Dropped\ndata: ${JSON.stringify({ type: 'Dropped', reason })}\n\n`);
    // Close the connection once the backlog and that event are flushed (not kept alive for reuse).
    res.socket?.end();
    setTimeout(() => res.destroy(), DROP_GRACE_MS).unref();
  }

  /** Ends every stream (the daemon is stopping). */
  closeAll(): void {
    for (const res of this.streams) res.end();
    this.streams.clear();
  }
}
