// Helpers for the channel tests: a fake clock, real HTTP receivers on 127.0.0.1, fixtures.
import http, { type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BellaError } from '../../daemon/api/errors';
import type { DispatcherClock } from '../../daemon/channels/dispatcher';
import { fanOut, newChannelId } from '../../daemon/channels/outbox-items';
import { generateWebhookSecret } from '../../daemon/channels/sign';
import {
  type Channel,
  type ChannelEventData,
  type ChannelEventType,
  type ChannelKind,
  DEFAULT_CHANNEL_EVENTS,
  type OutboxItem,
} from '../../daemon/channels/types';

/** A clock whose time moves only when the test says so; timers fire in time order. */
export class FakeClock implements DispatcherClock {
  private readonly timers = new Map<number, { fn: () => void; at: number }>();
  private nextHandle = 1;

  constructor(public time = Date.UTC(2026, 10, 28, 12, 0, 0)) {}

  now = (): number => this.time;

  setTimer = (fn: () => void, ms: number): unknown => {
    const handle = this.nextHandle++;
    this.timers.set(handle, { fn, at: this.time + ms });
    return handle;
  };

  clearTimer = (handle: unknown): void => {
    this.timers.delete(handle as number);
  };

  /** When the earliest timer is due, or null. */
  nextAt(): number | null {
    const ats = [...this.timers.values()].map((t) => t.at);
    return ats.length > 0 ? Math.min(...ats) : null;
  }

  /** Moves time forward by `ms`, firing every timer due on the way. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (let guard = 0; guard < 10_000; guard++) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort(([, a], [, b]) => a.at - b.at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = Math.max(this.time, due[1].at);
      due[1].fn();
    }
    this.time = end;
  }

  /** Jumps to the earliest timer and fires it; returns how far time moved. */
  runNext(): number {
    const at = this.nextAt();
    if (at === null) throw new Error('no timer is armed');
    const moved = Math.max(0, at - this.time);
    this.advance(moved);
    return moved;
  }
}

/** Polls `condition` every 10 ms, at most `tries` times; throws naming `what` if it never holds. */
export async function waitFor(condition: () => boolean, what: string, tries = 500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The error `fn` throws; fails the test if it throws nothing or something other than a BellaError. */
export function bellaErrorOf(fn: () => unknown): BellaError {
  try {
    fn();
  } catch (error) {
    if (error instanceof BellaError) return error;
    throw error;
  }
  throw new Error('expected a BellaError, nothing was thrown');
}

/** One request a receiver got. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Decides a receiver's answer to its `n`th request (0-based); return nothing to leave it hanging. */
export type Responder = (request: Received, n: number, res: ServerResponse) => void;

/** A real HTTP server on 127.0.0.1 that records what it receives. */
export interface Receiver {
  url: string;
  received: Received[];
  /** Requests received and not answered yet. */
  open(): number;
  /** The most requests ever open at once. */
  maxOpen(): number;
  close(): Promise<void>;
}

/** Answers every request with `status` and a short body. */
export const answer =
  (status: number, headers: Record<string, string> = {}): Responder =>
  (_request, _n, res) => {
    res.writeHead(status, headers).end('ok');
  };

/** Answers with `statuses[n]`, then with the last one. */
export const answerInTurn =
  (...statuses: number[]): Responder =>
  (request, n, res) =>
    answer(statuses[Math.min(n, statuses.length - 1)] ?? 200)(request, n, res);

/** Never answers. */
export const hang: Responder = () => {};

/** Starts a receiver (on `port`, or any free one); `close()` it in `afterEach`. */
export async function startReceiver(respond: Responder = answer(200), port = 0): Promise<Receiver> {
  const received: Received[] = [];
  let open = 0;
  let maxOpen = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: Received = {
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const n = received.length;
      received.push(request);
      open++;
      maxOpen = Math.max(maxOpen, open);
      res.on('close', () => open--);
      respond(request, n, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/hook/T0KEN-IN-PATH`,
    received,
    open: () => open,
    maxOpen: () => maxOpen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A channel of `kind` posting to `url`, with every event. It may post to loopback over plain HTTP
 * (the receivers here), as `add --allow-private --insecure-http --any-host` would allow.
 */
export function makeChannel(kind: ChannelKind, url: string, overrides: Partial<Channel> = {}): Channel {
  return {
    id: newChannelId(),
    kind,
    name: `${kind} test`,
    url,
    events: [...DEFAULT_CHANNEL_EVENTS],
    createdAt: 0,
    allowPrivate: true,
    insecureHttp: true,
    anyHost: true,
    ...(kind === 'webhook' ? { secret: generateWebhookSecret() } : {}),
    ...overrides,
  };
}

/** Event data for `count` leases of my-api/production expiring at `expiresAt`. */
export function leaseData(count: number, expiresAt: number, reason = 'deploy'): ChannelEventData {
  const leases = Array.from({ length: count }, (_, i) => ({
    id: `lease${String(i).padStart(12, '0')}`,
    scope: ['DATABASE_URL', 'API_KEY'],
    reason,
    expiresAt: new Date(expiresAt).toISOString(),
  }));
  return { project: 'my-api', environment: 'production', leaseIds: leases.map((l) => l.id), leases };
}

/** The outbox items of one event of `type` at `at` for `channels`. */
export function eventItems(
  type: ChannelEventType,
  at: number,
  channels: readonly Channel[],
  data: ChannelEventData = leaseData(1, at + 2 * 3_600_000),
): OutboxItem[] {
  return fanOut({ type, at, data }, channels);
}
