import {
  fanOut,
  newAttemptId,
  type Channel,
  type ChannelDisabled,
  type ChannelEvent,
  type DeliveryAttempt,
  type OutboxItem,
  type OutboxItemUpdate,
  type OutboxStore,
  OUTBOX_MAX_AGE_MS,
  OUTBOX_MAX_ITEMS,
} from '../channels';
import type { State, StoredOutboxItem, Touched } from '../store';
import type { DesktopNotificationsService } from './desktop-notifications';
import type { ServiceContext } from './service-context';

/** The outbox bound of {@link ChannelOutbox}; tests shorten it. */
export interface OutboxBound {
  /** Undelivered events kept per channel. Default {@link OUTBOX_MAX_ITEMS}. */
  maxItems?: number;
  /** An undelivered event's age per channel. Default {@link OUTBOX_MAX_AGE_MS}. */
  maxAgeMs?: number;
}

/** What the outbox needs from the channels service around it. */
export interface OutboxHooks {
  /** Every channel, its URL and secrets opened. */
  channels(state: State): Channel[];
  /** `count` events of a channel were dropped by the bound (the dispatcher counts them in its health). */
  dropped(channelId: string, count: number): void;
  /** The delivery log or the outbox changed: clients reload. */
  changed(): void;
}

/** Events one bound check dropped from one channel's outbox, to report once committed. */
interface Drop {
  channelId: string;
  count: number;
  reason: string;
}

/** Entries of the delivery log kept in the state; older ones leave it in the same commit. */
const DELIVERIES_KEPT = 1000;

/**
 * The durable channel outbox and its delivery log, in the state: items written in the same commit
 * as the change they are about ({@link fanOut}), bounded per channel, and served to the dispatcher
 * as its {@link OutboxStore} (every write one commit). Dropped events are reported once committed.
 */
export class ChannelOutbox implements OutboxStore {
  readonly maxItems: number;
  readonly maxAgeMs: number;
  private itemIndex: { version: number; byChannel: Map<string, string[]> } = { version: -1, byChannel: new Map() };
  private outboxVersion = 0;
  /** Drops written by a transaction not yet known to be committed (reported by {@link committed}). */
  private unreported: Drop[] = [];
  /** Channels whose drops were reported on the desktop since they last delivered: reported once. */
  private readonly dropsReported = new Set<string>();

  constructor(
    private readonly ctx: ServiceContext,
    private readonly desktop: DesktopNotificationsService,
    private readonly hooks: OutboxHooks,
    bound: OutboxBound = {},
  ) {
    this.maxItems = Math.max(1, bound.maxItems ?? OUTBOX_MAX_ITEMS);
    this.maxAgeMs = Math.max(0, bound.maxAgeMs ?? OUTBOX_MAX_AGE_MS);
    ctx.store.onReload(() => {
      this.outboxVersion++;
      this.unreported = [];
    });
  }

  /**
   * Inside a transaction: writes one outbox item per channel that wants each event, in the same
   * commit as the change (a change that does not commit never notifies; one that does always
   * does, after a crash too). Call {@link committed} once it committed.
   */
  fanOut(state: State, touched: Touched, events: readonly ChannelEvent[]): void {
    if (state.channels.size === 0 || events.length === 0) return;
    const channels = this.hooks.channels(state);
    const fed = new Set<string>();
    let now = 0;
    for (const event of events) {
      now = Math.max(now, event.at);
      for (const item of fanOut(event, channels)) {
        state.outbox.set(item.id, item as StoredOutboxItem);
        touched.record('outbox', item.id);
        fed.add(item.channelId);
        this.outboxVersion++;
      }
    }
    // The outbox bound, in the same commit as what it makes room for.
    for (const channelId of fed) this.unreported.push(...this.bound(state, touched, channelId, now));
  }

  /** After a commit that may have written outbox items: reports what the bound dropped. */
  committed(): void {
    for (const drop of this.unreported.splice(0)) this.reportDrop(drop);
  }

  /** Inside a transaction: a removed channel's undelivered events go with it (nobody will receive them). */
  removeChannel(state: State, touched: Touched, channelId: string): number {
    let dropped = 0;
    for (const item of state.outbox.values()) {
      if (item.channelId !== channelId) continue;
      state.outbox.delete(item.id);
      touched.record('outbox', item.id);
      dropped++;
    }
    this.outboxVersion++;
    return dropped;
  }

  /** The channel delivered again: its next drop is news again. */
  delivered(channelId: string): void {
    this.dropsReported.delete(channelId);
  }

  // The dispatcher's view of the durable outbox (OutboxStore); every write is one commit.

  channels(): readonly Channel[] {
    return this.hooks.channels(this.ctx.store.state);
  }

  pending(channelId: string, limit: number): readonly OutboxItem[] {
    const ids = this.itemIds().get(channelId) ?? [];
    const out: OutboxItem[] = [];
    for (const id of ids) {
      const item = this.ctx.store.state.outbox.get(id);
      if (item?.status === 'pending') out.push(item as OutboxItem);
      if (out.length === limit) break;
    }
    return out;
  }

  get(itemId: string): OutboxItem | undefined {
    return this.ctx.store.state.outbox.get(itemId) as OutboxItem | undefined;
  }

  recordAttempt(attempt: DeliveryAttempt, updates: readonly OutboxItemUpdate[]): Promise<void> {
    return this.ctx.store.transact((s, touched) => {
      logAttempt(s, touched, attempt);
      this.apply(s, touched, updates);
      return { result: undefined, audit: [] };
    }, 'read');
  }

  requeue(updates: readonly OutboxItemUpdate[]): Promise<void> {
    return this.ctx.store.transact((s, touched) => {
      this.apply(s, touched, updates);
      return { result: undefined, audit: [] };
    }, 'read');
  }

  async expire(channelId: string): Promise<void> {
    const drops = await this.ctx.store.transact(
      (s, touched) => ({ result: this.bound(s, touched, channelId, this.ctx.clock()), audit: [] }),
      'release',
    );
    for (const drop of drops) this.reportDrop(drop);
  }

  disableChannel(channelId: string, disabled: ChannelDisabled): Promise<void> {
    return this.ctx.store.transact((s, touched) => {
      const channel = s.channels.get(channelId);
      if (channel) {
        channel.disabled = disabled;
        touched.record('channel', channelId);
      }
      return { result: undefined, audit: [] };
    }, 'read');
  }

  /**
   * The outbox bound of one channel (a receiver down for days must not grow the state without
   * limit): drops its undelivered items (pending or failed) older than `maxAgeMs`, and the oldest
   * beyond `maxItems`, each recorded in the delivery log. Items are in commit order, so the ones to
   * drop come first.
   */
  private bound(state: State, touched: Touched, channelId: string, now: number): Drop[] {
    const ids = this.itemIds().get(channelId) ?? [];
    const over = ids.length - this.maxItems;
    const byReason = new Map<string, StoredOutboxItem[]>();
    for (let i = 0; i < ids.length; i++) {
      const item = state.outbox.get(ids[i] as string);
      if (!item) continue;
      const old = item.timestamp + this.maxAgeMs <= now;
      if (i >= over && !old) break;
      const reason = old
        ? `not delivered within ${formatHours(this.maxAgeMs)}: dropped`
        : `the channel's outbox holds at most ${this.maxItems} undelivered events: the oldest was dropped`;
      byReason.set(reason, [...(byReason.get(reason) ?? []), item]);
    }
    const drops: Drop[] = [];
    for (const [reason, items] of byReason) {
      for (const item of items) {
        state.outbox.delete(item.id);
        touched.record('outbox', item.id);
      }
      logDrops(state, touched, channelId, items, reason, now);
      drops.push({ channelId, count: items.length, reason });
    }
    if (drops.length) this.outboxVersion++;
    return drops;
  }

  /**
   * Tells of dropped events: the delivery log already has them; the channel's health counts them;
   * the desktop (a notification, and an event for the app) hears of it once, until the channel
   * delivers again.
   */
  private reportDrop(drop: Drop): void {
    const stored = this.ctx.store.state.channels.get(drop.channelId);
    if (!stored) return;
    this.hooks.dropped(drop.channelId, drop.count);
    const what = `${drop.count} event${drop.count === 1 ? '' : 's'} for ${stored.kind} channel ${stored.name} (${stored.id})`;
    this.ctx.log(`channels: ${what} dropped undelivered: ${drop.reason}`);
    if (!this.dropsReported.has(drop.channelId)) {
      this.dropsReported.add(drop.channelId);
      this.desktop.send(
        `bella: events not delivered to ${stored.name}`,
        `${what} were dropped undelivered (${drop.reason}). See: bella notifications deliveries --channel ${stored.id}`,
      );
      this.ctx.events.emit({
        type: 'ChannelEventsDropped',
        at: new Date(this.ctx.clock()).toISOString(),
        ...(stored.project ? { project: stored.project } : {}),
        ...(stored.environment ? { environment: stored.environment } : {}),
        channelId: stored.id,
        channel: stored.name,
        dropped: drop.count,
        reason: drop.reason,
      });
    }
    this.hooks.changed();
  }

  private apply(state: State, touched: Touched, updates: readonly OutboxItemUpdate[]): void {
    for (const update of updates) {
      const item = state.outbox.get(update.id);
      if (!item) continue;
      touched.record('outbox', item.id);
      // A delivered item has done its work: it leaves the state (the delivery log keeps its trace).
      if (update.status === 'delivered') state.outbox.delete(item.id);
      else Object.assign(item, update);
    }
    this.outboxVersion++;
  }

  /** The ids of each channel's undelivered items (pending and failed), in commit order. */
  private itemIds(): Map<string, string[]> {
    if (this.itemIndex.version !== this.outboxVersion) {
      const byChannel = new Map<string, string[]>();
      for (const item of this.ctx.store.state.outbox.values()) {
        if (item.status === 'delivered') continue;
        const ids = byChannel.get(item.channelId) ?? [];
        ids.push(item.id);
        byChannel.set(item.channelId, ids);
      }
      this.itemIndex = { version: this.outboxVersion, byChannel };
    }
    return this.itemIndex.byChannel;
  }
}

/** 72 h; a short test bound in seconds. */
const formatHours = (ms: number): string =>
  ms >= 3600_000 ? `${Math.round(ms / 360_000) / 10} h` : `${Math.round(ms / 100) / 10} s`;

/** Delivery log entries for dropped items: one per event type, at most 100 item ids each. */
function logDrops(
  state: State,
  touched: Touched,
  channelId: string,
  items: readonly StoredOutboxItem[],
  reason: string,
  at: number,
): void {
  const byEvent = new Map<string, StoredOutboxItem[]>();
  for (const item of items) byEvent.set(item.event, [...(byEvent.get(item.event) ?? []), item]);
  for (const group of byEvent.values()) {
    for (let i = 0; i < group.length; i += 100) {
      const chunk = group.slice(i, i + 100);
      const first = chunk[0] as StoredOutboxItem;
      logAttempt(state, touched, {
        id: newAttemptId(),
        channelId,
        itemIds: chunk.map((item) => item.id),
        event: first.event,
        attempt: first.attempts,
        at,
        durationMs: 0,
        outcome: 'dropped',
        status: null,
        error: reason,
        nextAttemptAt: null,
      });
    }
  }
}

/** Adds an attempt to the delivery log, dropping the oldest past {@link DELIVERIES_KEPT}. */
function logAttempt(state: State, touched: Touched, attempt: DeliveryAttempt): void {
  state.deliveries.set(attempt.id, attempt);
  touched.record('delivery', attempt.id);
  for (const id of state.deliveries.keys()) {
    if (state.deliveries.size <= DELIVERIES_KEPT) break;
    state.deliveries.delete(id);
    touched.record('delivery', id);
  }
}
