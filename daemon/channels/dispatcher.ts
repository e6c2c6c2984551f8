import { unrefTimers } from '../base/node/timers';
import { BellaError } from '../api/errors';
import { chatBatch, dueAt } from './chat-batching';
import { type ChannelHealth, HealthTracker } from './channel-health';
import { attemptRecord, buildRequest, toUpdate } from './delivery-attempt';
import { OUTBOX_MAX_AGE_MS, OUTBOX_MAX_ITEMS, type OutboxStore } from './outbox-store';
import { nextStep } from './retry-schedule';
import { DEFAULT_SEND_OPTIONS, type OutgoingRequest, type SendOptions, type SendResult, send } from './send';
import type { AttemptOutcome, Channel, DeliveryAttempt, OutboxItem, OutboxItemUpdate } from './types';

/** Time as the dispatcher sees it; injected so tests run on a fake clock. */
export interface DispatcherClock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/** Counts since start (for `daemon status`, the bench and tests); no timings. */
export interface DispatcherStats {
  inFlight: number;
  /** HTTP requests made. */
  requests: number;
  /** Items delivered (a grouped message counts each of its items). */
  delivered: number;
  /** Items that ran out of attempts. */
  failed: number;
  /** Failed attempts that will be retried. */
  retries: number;
  /** Channels disabled by a 410. */
  disabledChannels: number;
  /** Writes to the store that failed. */
  storeErrors: number;
}

/** Options of {@link Dispatcher}. */
export interface DispatcherOptions {
  store: OutboxStore;
  /** Default: `Date.now` and unref'd `setTimeout`. */
  clock?: DispatcherClock;
  /** Default: {@link DEFAULT_SEND_OPTIONS} (5 s connect, 10 s total, 64 KiB). */
  sendOptions?: Partial<SendOptions>;
  /** Requests in flight across all channels. Default 8. (Per channel it is always one.) */
  maxInFlight?: number;
  /** Slack/Discord: items of one event and environment committed within this of the first go as one message. Default 500 ms. */
  groupWindowMs?: number;
  /** Slack/Discord: at most this many items in one message. Default 50. */
  maxGroupSize?: number;
  /** Failed attempts in a row before a channel is reported failing. Default 1: the first shows it. */
  failingAfter?: number;
  /** The outbox's age bound. Default {@link OUTBOX_MAX_AGE_MS}; short in tests. */
  maxAgeMs?: number;
  /** After a store write fails, the channel waits this long before its next request. Default 30 s. */
  storeRetryMs?: number;
  /** Default `Math.random`. */
  random?: () => number;
  /** The first wait between attempts (it doubles after each). Default `BASE_RETRY_DELAY_MS` (retry-schedule.ts); short in tests. */
  baseRetryDelayMs?: number;
  /** Time zone/locale for chat messages. Defaults: the system's. */
  timeZone?: string;
  locale?: string;
  /** Called once per change of a channel's health (failing, recovered, disabled): report it there, once. */
  onHealthChange?(health: ChannelHealth): void;
  /** Called after each attempt is recorded (e.g. to tell clients the delivery log changed). */
  onAttempt?(attempt: DeliveryAttempt): void;
  /** A store write or a pass failed. Default `console.error` of the error's message. */
  onError?(error: unknown): void;
}

const defaultClock: DispatcherClock = { now: Date.now, ...unrefTimers };

const PASS_RETRY_MS = 1_000;
const MAX_TIMER_MS = 3_600_000;
const MAX_UNRECORDED_PER_CHANNEL = 64;

/**
 * Delivers outbox items to their channels, off the request path. Each item has its own retry
 * schedule: one waiting for its retry holds up nothing (an expiry warning behind an event the
 * receiver refuses goes out at once), so the order of delivery is not promised. One request in
 * flight per channel (oldest due item first), at most `maxInFlight` across channels, so a hung
 * receiver costs one slot for at most the total timeout and every other channel keeps going. A
 * failed attempt is written before the channel's next request; a delivered one may still be being
 * written while the next goes out (a crash in between re-sends it after restart, same id: at least
 * once). Items past the outbox's age bound are dropped ({@link OutboxStore.expire}), not sent.
 *
 * Grouping: Slack and Discord items of one event type and environment committed within
 * `groupWindowMs` of the first become ONE message (20 leases issued together → "20 leases issued
 * in my-api/production"); the first of them waits out the window before it is sent. Webhooks are
 * never grouped: one delivery per event keeps one stable `webhook-id` per event for receivers to
 * de-duplicate, and the producer already groups what crosses together (`data.leaseIds`).
 */
export class Dispatcher {
  private readonly store: OutboxStore;
  private readonly clock: DispatcherClock;
  private readonly sendOptions: SendOptions;
  private readonly maxInFlight: number;
  private readonly groupWindowMs: number;
  private readonly maxGroupSize: number;
  private readonly storeRetryMs: number;
  private readonly maxAgeMs: number;
  private readonly random: () => number;
  private readonly onError: (error: unknown) => void;

  private readonly busy = new Map<string, Promise<void>>();
  private readonly holdUntil = new Map<string, number>();
  /** Delivered items whose result is being written; skipped by passes meanwhile. */
  private readonly unrecorded = new Set<string>();
  private readonly unrecordedPerChannel = new Map<string, number>();
  private readonly recordings = new Set<Promise<void>>();
  private readonly healthTracker: HealthTracker;
  private readonly counters: Omit<DispatcherStats, 'inFlight'> = {
    requests: 0,
    delivered: 0,
    failed: 0,
    retries: 0,
    disabledChannels: 0,
    storeErrors: 0,
  };
  private timer: { handle: unknown; at: number } | null = null;
  private passQueued = false;
  private started = false;
  private stopped = false;
  /** When each channel last got a slot (a launch count): the longest-waiting channel goes first. */
  private readonly served = new Map<string, number>();
  private launches = 0;

  constructor(private readonly options: DispatcherOptions) {
    this.store = options.store;
    this.clock = options.clock ?? defaultClock;
    this.sendOptions = { ...DEFAULT_SEND_OPTIONS, ...options.sendOptions };
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 8);
    this.groupWindowMs = Math.max(0, options.groupWindowMs ?? 500);
    this.maxGroupSize = Math.max(1, options.maxGroupSize ?? 50);
    this.maxAgeMs = Math.max(0, options.maxAgeMs ?? OUTBOX_MAX_AGE_MS);
    this.storeRetryMs = Math.max(0, options.storeRetryMs ?? 30_000);
    this.random = options.random ?? Math.random;
    this.healthTracker = new HealthTracker(
      Math.max(1, options.failingAfter ?? 1),
      (channelId) => this.retrying(channelId),
      (health) => options.onHealthChange?.(health),
    );
    this.onError =
      options.onError ??
      ((error) => console.error('notification delivery:', error instanceof Error ? error.message : error));
  }

  /** Starts delivering what is pending (after a restart: whatever the outbox still holds). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.healthTracker.seed(this.store.channels());
    this.kick();
  }

  /** Wakes the loop now: call it after every commit that added outbox items. */
  kick(): void {
    if (!this.started || this.stopped || this.passQueued) return;
    this.passQueued = true;
    queueMicrotask(() => {
      this.passQueued = false;
      this.pass();
    });
  }

  /**
   * The retry button: a `failed` item gets a fresh `MAX_ATTEMPTS`, a `pending` one is due
   * now. Several ids are requeued in one commit (and a Slack/Discord group goes out as one message again). Returns
   * the requeued items. Throws `not_found`, or `conflict` for a delivered item or a disabled
   * channel, before changing anything.
   */
  async retryNow(itemIds: string | readonly string[]): Promise<OutboxItem[]> {
    const ids = typeof itemIds === 'string' ? [itemIds] : [...itemIds];
    const now = this.clock.now();
    const channels = new Map(this.store.channels().map((c) => [c.id, c]));
    const updated = ids.map((id): OutboxItem => {
      const item = this.store.get(id);
      if (!item) throw new BellaError('not_found', `no delivery ${id}: see bella notifications deliveries`);
      if (item.status === 'delivered') throw new BellaError('conflict', `delivery ${id} was already delivered`);
      const channel = channels.get(item.channelId);
      if (!channel) throw new BellaError('not_found', `the channel of delivery ${id} was removed`);
      if (channel.disabled) {
        throw new BellaError(
          'conflict',
          `channel ${channel.name} is disabled (${channel.disabled.reason}): enable it first`,
        );
      }
      return item.status === 'failed'
        ? { ...item, status: 'pending', attempts: 0, nextAttemptAt: now }
        : { ...item, nextAttemptAt: now };
    });
    await this.store.requeue(updated.map(toUpdate));
    for (const item of updated) this.holdUntil.delete(item.channelId);
    this.kick();
    return updated;
  }

  /** Health of every channel, in the store's order. */
  health(): ChannelHealth[] {
    return this.store.channels().map((channel) => this.healthTracker.of(channel));
  }

  /** Counts since start. */
  stats(): DispatcherStats {
    return { inFlight: this.busy.size, ...this.counters };
  }

  /** Stops taking new work and resolves once every request in flight has finished or timed out, and been recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimer(this.timer.handle);
    this.timer = null;
    await Promise.allSettled([...this.busy.values()]);
    await Promise.allSettled([...this.recordings]);
  }

  private pass(): void {
    if (this.stopped) return;
    let wake = Infinity;
    try {
      const now = this.clock.now();
      // Least recently served first: a channel with a stream of due events cannot keep the free
      // slots from the others.
      const served = (c: Channel): number => this.served.get(c.id) ?? 0;
      const channels = [...this.store.channels()].sort((a, b) => served(a) - served(b));
      for (const channel of channels) {
        if (channel.disabled || this.busy.has(channel.id)) continue;
        const hold = this.holdUntil.get(channel.id) ?? 0;
        if (hold > now) {
          wake = Math.min(wake, hold);
          continue;
        }
        const writing = this.unrecordedPerChannel.get(channel.id) ?? 0;
        // Bounded: if the store falls behind, a channel waits for its writes instead of racing ahead.
        if (writing >= MAX_UNRECORDED_PER_CHANNEL) continue;
        const chat = channel.kind !== 'webhook';
        const items = this.store
          .pending(channel.id, OUTBOX_MAX_ITEMS + writing)
          .filter((item) => !this.unrecorded.has(item.id));
        if (items.length === 0) continue;
        // Commit order: the oldest is the first to pass the age bound.
        const oldest = (items[0] as OutboxItem).timestamp + this.maxAgeMs;
        if (oldest <= now) {
          if (this.busy.size >= this.maxInFlight) break;
          this.expire(channel);
          continue;
        }
        wake = Math.min(wake, oldest);
        // Each item on its own schedule: the ones due now go, whatever waits before them.
        const due: OutboxItem[] = [];
        for (const item of items) {
          const at = dueAt(item, chat, this.groupWindowMs);
          if (at <= now) due.push(item);
          else wake = Math.min(wake, at);
        }
        if (due.length === 0) continue;
        // Saturated: the pass that runs when a slot frees picks up from here.
        if (this.busy.size >= this.maxInFlight) break;
        const head = due[0] as OutboxItem;
        this.launch(channel, chat ? chatBatch(head, items, now, this.groupWindowMs, this.maxGroupSize) : [head]);
      }
    } catch (error) {
      this.onError(error);
      wake = Math.min(wake, this.clock.now() + PASS_RETRY_MS);
    }
    this.arm(wake);
  }

  /** Drops the channel's items past the age bound, in one commit; the channel waits meanwhile. */
  private expire(channel: Channel): void {
    const run = this.store
      .expire(channel.id)
      .catch((error: unknown) => {
        this.counters.storeErrors++;
        this.holdUntil.set(channel.id, this.clock.now() + this.storeRetryMs);
        this.onError(error);
      })
      .finally(() => {
        this.busy.delete(channel.id);
        this.kick();
      });
    this.busy.set(channel.id, run);
  }

  /** The store dropped `count` items of a channel (the outbox bound): counted in its health. */
  dropped(channelId: string, count: number): void {
    this.healthTracker.dropped(channelId, count);
  }

  private arm(at: number): void {
    if (this.stopped) return;
    if (this.timer && this.timer.at <= at) return;
    if (this.timer) this.clock.clearTimer(this.timer.handle);
    this.timer = null;
    if (at === Infinity) return;
    // Capped: a timer past Node's 2^31 ms limit would fire at once, in a loop (and the wall clock may jump).
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, at - this.clock.now()));
    const handle = this.clock.setTimer(() => {
      this.timer = null;
      this.pass();
    }, delay);
    this.timer = { handle, at: this.clock.now() + delay };
  }

  private launch(channel: Channel, items: OutboxItem[]): void {
    this.served.set(channel.id, ++this.launches);
    const run = (async () => {
      let recording: Promise<void>;
      let delivered: boolean;
      try {
        const { attempt, updates } = await this.attempt(channel, items);
        delivered = attempt.outcome === 'delivered';
        recording = this.record(channel, attempt, updates);
      } catch (error) {
        // A bug: hold the channel so the same item is not retried in a tight loop.
        this.holdUntil.set(channel.id, this.clock.now() + this.storeRetryMs);
        this.onError(error);
        return;
      }
      // A failure must be on record (its retry time) before the channel's next request, or the item
      // behind would overtake it. A delivery need not: the next request may go while it is written.
      if (delivered) this.whileRecording(channel.id, items, recording);
      else await recording;
    })().finally(() => {
      this.busy.delete(channel.id);
      this.kick();
    });
    this.busy.set(channel.id, run);
  }

  private whileRecording(channelId: string, items: readonly OutboxItem[], recording: Promise<void>): void {
    for (const item of items) this.unrecorded.add(item.id);
    this.unrecordedPerChannel.set(channelId, (this.unrecordedPerChannel.get(channelId) ?? 0) + items.length);
    const done = recording.finally(() => {
      for (const item of items) this.unrecorded.delete(item.id);
      this.unrecordedPerChannel.set(channelId, (this.unrecordedPerChannel.get(channelId) ?? 0) - items.length);
      this.recordings.delete(done);
      this.kick();
    });
    this.recordings.add(done);
  }

  private async attempt(
    channel: Channel,
    items: OutboxItem[],
  ): Promise<{ attempt: DeliveryAttempt; updates: OutboxItemUpdate[] }> {
    const head = items[0] as OutboxItem;
    const at = this.clock.now();
    let request: OutgoingRequest | SendResult;
    try {
      request = buildRequest(channel, items, at, this.options);
    } catch (error) {
      // A bug, not the receiver's fault: reported, and counted as a failed attempt so the item
      // still ends as `failed` (visible, retryable) instead of looping.
      this.onError(error);
      request = { outcome: 'retry', status: null, error: 'internal error building the message', responseBytes: 0 };
    }
    let result: SendResult;
    if ('outcome' in request) {
      result = request;
    } else {
      this.counters.requests++;
      result = await send(request, this.sendOptions);
    }
    const ended = this.clock.now();
    const attempts = head.attempts + 1;
    const step = nextStep(result, attempts, ended, this.random, this.options.baseRetryDelayMs);
    return attemptRecord(channel, items, result, { attempts, at, ended }, step);
  }

  // Never rejects: a write that fails leaves the items as the store last had them, to be sent
  // again (same id) once the channel's hold is over.
  private async record(channel: Channel, attempt: DeliveryAttempt, updates: OutboxItemUpdate[]): Promise<void> {
    try {
      await this.store.recordAttempt(attempt, updates);
      if (attempt.outcome === 'disabled') {
        const ended = attempt.at + attempt.durationMs;
        await this.store.disableChannel(channel.id, { at: ended, reason: attempt.error ?? 'disabled' });
      }
    } catch (error) {
      this.counters.storeErrors++;
      this.holdUntil.set(channel.id, this.clock.now() + this.storeRetryMs);
      this.onError(error);
      return;
    }
    this.count(attempt.outcome, updates.length);
    this.healthTracker.track(channel, attempt, updates.length);
    this.options.onAttempt?.(attempt);
  }

  private count(outcome: AttemptOutcome, items: number): void {
    if (outcome === 'delivered') this.counters.delivered += items;
    else if (outcome === 'failed') this.counters.failed += items;
    else if (outcome === 'retry') this.counters.retries++;
    else this.counters.disabledChannels++;
  }

  /** An item of the channel that failed and waits for its retry, if any. */
  private retrying(channelId: string): OutboxItem | undefined {
    return this.store
      .pending(channelId, OUTBOX_MAX_ITEMS)
      .find((item) => item.attempts > 0 && item.lastError !== null && !this.unrecorded.has(item.id));
  }
}
