import { BellaError, type OperationArgs, type OperationOutput } from '../api';
import {
  Dispatcher,
  fanOut,
  generateWebhookSecret,
  newChannelId,
  newAttemptId,
  parseChannelEvents,
  renderBody,
  send,
  signingSecrets,
  signWebhook,
  toChannelView,
  checkChannelAddress,
  urlRules,
  validateWebhookSecret,
  type Channel,
  type ChannelEvent,
  type ChannelHealth,
  type DeliveryAttempt,
  type OutboxItem,
  type OutboxItemUpdate,
  type OutboxStore,
  OUTBOX_MAX_AGE_MS,
  OUTBOX_MAX_ITEMS,
} from '../channels';
import { open, seal, type State, type StoredChannel, type StoredOutboxItem, type Touched } from '../store';
import { findEnvironment, findProject } from './lookup';
import type { DesktopNotificationsService } from './desktop-notifications';
import type { ServiceContext } from './service-context';

/** Knobs of {@link ChannelsService}; tests shorten them (the daemon reads them from BELLA_CHANNEL_* variables). */
export interface ChannelOptions {
  /** The first wait between attempts. Default 2 min. */
  baseRetryDelayMs?: number;
  /** The outbox bound per channel: undelivered events kept. Default {@link OUTBOX_MAX_ITEMS}. */
  maxItems?: number;
  /** The outbox bound per channel: an event's age. Default {@link OUTBOX_MAX_AGE_MS}. */
  maxAgeMs?: number;
}

/** Events one bound check dropped from one channel's outbox, to report once committed. */
interface Drop {
  channelId: string;
  count: number;
  reason: string;
}

/** Entries of the delivery log kept in the state; older ones leave it in the same commit. */
const DELIVERIES_KEPT = 1000;
/** How long the old signing secret keeps signing after a rotation. */
const SECRET_OVERLAP_MS = 24 * 3600_000;

/**
 * Notification channels (signed webhooks, Slack, Discord): stored with their URLs and secrets
 * sealed, fed by a durable outbox written in the same commit as the change an event is about, and
 * delivered at least once, in order per channel, by the {@link Dispatcher}, off the request path.
 */
export class ChannelsService {
  readonly dispatcher: Dispatcher;
  private readonly unsealed = new Map<string, string>();
  private itemIndex: { version: number; byChannel: Map<string, string[]> } = { version: -1, byChannel: new Map() };
  private outboxVersion = 0;
  private readonly maxItems: number;
  private readonly maxAgeMs: number;
  /** Drops written by a transaction not yet known to be committed (reported by {@link committed}). */
  private unreported: Drop[] = [];
  /** Channels whose drops were reported on the desktop since they last delivered: reported once. */
  private readonly dropsReported = new Set<string>();

  constructor(
    private readonly ctx: ServiceContext,
    private readonly desktop: DesktopNotificationsService,
    options: ChannelOptions = {},
  ) {
    this.maxItems = Math.max(1, options.maxItems ?? OUTBOX_MAX_ITEMS);
    this.maxAgeMs = Math.max(0, options.maxAgeMs ?? OUTBOX_MAX_AGE_MS);
    this.dispatcher = new Dispatcher({
      baseRetryDelayMs: options.baseRetryDelayMs,
      maxAgeMs: this.maxAgeMs,
      store: this.outboxStore(),
      clock: {
        now: ctx.clock,
        setTimer: (fn, ms) => setTimeout(fn, ms).unref(),
        clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
      },
      onHealthChange: (health) => this.reportHealth(health),
      onAttempt: (attempt) => {
        // Delivering again: the next drop on this channel is news again.
        if (attempt.outcome === 'delivered') this.dropsReported.delete(attempt.channelId);
        this.changed();
      },
      onError: (err) => ctx.log(`channels: ${(err as Error).message}`),
    });
    ctx.store.onReload(() => {
      this.outboxVersion++;
      this.unreported = [];
    });
  }

  /** Starts delivering what the outbox holds (after a restart too). */
  start(): void {
    this.dispatcher.start();
  }

  /** Waits for requests in flight (or their timeouts). */
  stop(): Promise<void> {
    return this.dispatcher.stop();
  }

  /**
   * Inside a transaction: writes one outbox item per channel that wants each event, in the same
   * commit as the change (a change that does not commit never notifies; one that does always
   * does, after a crash too). Call {@link committed} once it committed.
   */
  fanOut(state: State, touched: Touched, events: readonly ChannelEvent[]): void {
    if (state.channels.size === 0 || events.length === 0) return;
    const channels = this.channels(state);
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

  /** After a commit that may have written outbox items: deliver them now, not at the next tick. */
  committed(): void {
    for (const drop of this.unreported.splice(0)) this.reportDrop(drop);
    this.dispatcher.kick();
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
    this.dispatcher.dropped(drop.channelId, drop.count);
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
    this.changed();
  }

  /** Health of every channel, for `daemon status` (one line per failing channel, never per attempt). */
  problems(): string[] {
    return this.dispatcher
      .health()
      .filter((h) => h.failing || h.disabled)
      .map((h) =>
        h.disabled
          ? `notification channel ${h.name} (${h.kind}) is disabled: ${h.disabled.reason}`
          : `notification channel ${h.name} (${h.kind}) is failing${h.since ? ` since ${new Date(h.since).toISOString()}` : ''}: ${h.lastError ?? 'no answer'}`,
      );
  }

  list(): OperationOutput<'listChannels'> {
    const health = new Map(this.dispatcher.health().map((h) => [h.channelId, h]));
    const state = this.ctx.store.state;
    return {
      channels: this.channels(state).map((c) => ({ ...toChannelView(c), health: healthView(health.get(c.id)) })),
      pending: [...state.outbox.values()].filter((i) => i.status === 'pending').length,
    };
  }

  async add(args: OperationArgs<'addChannel'>): Promise<OperationOutput<'addChannel'>> {
    const rules = {
      kind: args.kind,
      allowPrivate: args.allowPrivate === true,
      insecureHttp: args.insecureHttp === true,
      anyHost: args.anyHost === true,
    };
    // SSRF: the URL (and what its name resolves to now) is checked here and again at every send.
    await checkChannelAddress(args.url, rules);
    const events = parseChannelEvents(args.events?.join(','));
    if (args.kind !== 'webhook' && args.secret) {
      throw new BellaError(
        'invalid_argument',
        `--secret is for webhook channels; ${args.kind} URLs carry their own credential`,
      );
    }
    if (args.secret) validateWebhookSecret(args.secret);
    const secret = args.kind === 'webhook' ? (args.secret ?? generateWebhookSecret()) : null;
    const out = await this.ctx.store.transact((state, touched) => {
      if (args.environment && !args.project) throw new BellaError('invalid_argument', '--environment needs --project');
      if (args.project && args.environment) findEnvironment(state, args.project, args.environment);
      else if (args.project) findProject(state, args.project);
      const id = newChannelId();
      const channel: StoredChannel = {
        id,
        kind: args.kind,
        name: args.name ?? `${args.kind} ${new URL(args.url).host}`,
        sealedUrl: this.seal(id, 'url', args.url),
        ...(args.project ? { project: args.project } : {}),
        ...(args.environment ? { environment: args.environment } : {}),
        events,
        ...(secret ? { sealedSecret: this.seal(id, 'secret', secret) } : {}),
        createdAt: this.ctx.clock(),
        disabled: null,
        ...(rules.allowPrivate ? { allowPrivate: true } : {}),
        ...(rules.insecureHttp ? { insecureHttp: true } : {}),
        ...(rules.anyHost ? { anyHost: true } : {}),
      };
      state.channels.set(id, channel);
      touched.record('channel', id);
      return {
        result: channel,
        audit: [
          {
            event: 'ChannelAdded',
            outcome: 'Success',
            actor: 'owner',
            ...(args.project ? { project: args.project } : {}),
            ...(args.environment ? { environment: args.environment } : {}),
            message: `${channel.kind} channel ${channel.name} (${id}) for ${events.join(', ')}`,
          },
        ],
      };
    });
    this.changed();
    return { channel: { ...toChannelView(this.open(out)), health: null }, secret };
  }

  async remove(args: OperationArgs<'removeChannel'>): Promise<OperationOutput<'removeChannel'>> {
    const dropped = await this.ctx.store.transact((state, touched) => {
      const channel = this.find(state, args.id);
      state.channels.delete(channel.id);
      touched.record('channel', channel.id);
      let dropped = 0;
      // Its undelivered events go with it: nobody will receive them.
      for (const item of state.outbox.values()) {
        if (item.channelId !== channel.id) continue;
        state.outbox.delete(item.id);
        touched.record('outbox', item.id);
        dropped++;
      }
      this.outboxVersion++;
      return {
        result: dropped,
        audit: [
          {
            event: 'ChannelRemoved',
            outcome: 'Success',
            actor: 'owner',
            message: `${channel.kind} channel ${channel.name} (${channel.id})`,
          },
        ],
      };
    }, 'release');
    this.changed();
    return { removed: args.id, pendingDropped: dropped };
  }

  /** Sends a test event to one channel at once and says how the receiver answered. */
  async test(args: OperationArgs<'testChannel'>): Promise<OperationOutput<'testChannel'>> {
    const channel = this.open(this.find(this.ctx.store.state, args.id));
    const now = this.ctx.clock();
    const item: OutboxItem = {
      id: `msg_test${now.toString(36)}`,
      channelId: channel.id,
      event: 'LeaseIssued',
      timestamp: now,
      data: {
        project: channel.project ?? 'bella',
        environment: channel.environment ?? 'test',
        leaseIds: [],
        reason: 'bella notifications channels test',
      },
      attempts: 0,
      nextAttemptAt: now,
      status: 'pending',
      lastError: null,
      lastStatus: null,
    };
    const body = renderBody(channel.kind, [item], { now });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const secrets = channel.kind === 'webhook' ? signingSecrets(channel, now) : [];
    if (secrets.length) Object.assign(headers, signWebhook(secrets, item.id, now, body));
    const started = this.ctx.clock();
    const result = await send({ url: channel.url, headers, body, rules: urlRules(channel) });
    const attempt: DeliveryAttempt = {
      id: newAttemptId(),
      channelId: channel.id,
      itemIds: [item.id],
      event: item.event,
      attempt: 1,
      at: started,
      durationMs: Math.max(0, this.ctx.clock() - started),
      outcome: result.outcome === 'delivered' ? 'delivered' : 'failed',
      status: result.status,
      error: result.error,
      nextAttemptAt: null,
    };
    // In the delivery log like any attempt; a test is never retried.
    await this.ctx.store.transact((s, touched) => {
      logAttempt(s, touched, attempt);
      return { result: undefined, audit: [] };
    }, 'read');
    this.changed();
    return { delivered: result.outcome === 'delivered', status: result.status, error: result.error };
  }

  /** A new signing secret (shown once); the old one keeps signing for a day, so receivers can switch. */
  async rotateSecret(args: OperationArgs<'rotateChannelSecret'>): Promise<OperationOutput<'rotateChannelSecret'>> {
    const secret = generateWebhookSecret();
    await this.ctx.store.transact((state, touched) => {
      const channel = this.find(state, args.id);
      if (channel.kind !== 'webhook' || !channel.sealedSecret) {
        throw new BellaError(
          'invalid_argument',
          `${channel.name} is a ${channel.kind} channel: only webhooks sign with a secret`,
        );
      }
      channel.previousSecret = { sealed: channel.sealedSecret, until: this.ctx.clock() + SECRET_OVERLAP_MS };
      channel.sealedSecret = this.seal(channel.id, 'secret', secret);
      touched.record('channel', channel.id);
      return {
        result: null,
        audit: [
          {
            event: 'ChannelChanged',
            outcome: 'Success',
            actor: 'owner',
            message: `new signing secret for ${channel.name} (${channel.id})`,
          },
        ],
      };
    });
    this.changed();
    return { secret };
  }

  /** Delivers to a channel that was disabled (by a 410, or by the owner) again; what it missed goes out. */
  async enable(args: OperationArgs<'enableChannel'>): Promise<OperationOutput<'enableChannel'>> {
    return this.setDisabled(args.id, null, 'enabled');
  }

  /** Stops delivering to a channel; its events wait in the outbox until it is enabled. */
  async disable(args: OperationArgs<'disableChannel'>): Promise<OperationOutput<'disableChannel'>> {
    return this.setDisabled(args.id, { at: this.ctx.clock(), reason: 'disabled by the owner' }, 'disabled');
  }

  private async setDisabled(
    id: string,
    disabled: StoredChannel['disabled'],
    word: 'enabled' | 'disabled',
  ): Promise<OperationOutput<'enableChannel'>> {
    await this.ctx.store.transact((state, touched) => {
      const channel = this.find(state, id);
      channel.disabled = disabled;
      touched.record('channel', channel.id);
      return {
        result: null,
        audit: [
          {
            event: 'ChannelChanged',
            outcome: 'Success',
            actor: 'owner',
            message: `${channel.name} (${channel.id}) ${word}`,
          },
        ],
      };
    });
    this.changed();
    if (!disabled) this.dispatcher.kick();
    return { channel: { ...toChannelView(this.open(this.find(this.ctx.store.state, id))), health: null } };
  }

  /** The delivery log, newest first, and the items that used all their attempts. */
  deliveries(args: OperationArgs<'listDeliveries'>): OperationOutput<'listDeliveries'> {
    const state = this.ctx.store.state;
    if (args.channel) this.find(state, args.channel);
    const attempts = [...state.deliveries.values()]
      .filter((d) => (!args.channel || d.channelId === args.channel) && (!args.failed || d.outcome !== 'delivered'))
      .reverse()
      .slice(0, args.limit ?? 100);
    const failed = [...state.outbox.values()].filter(
      (i) => i.status === 'failed' && (!args.channel || i.channelId === args.channel),
    );
    return { deliveries: attempts as DeliveryAttempt[], failed: failed as OutboxItem[] };
  }

  /** The retry button: failed (or waiting) items go out again now. */
  async retry(args: OperationArgs<'retryDelivery'>): Promise<OperationOutput<'retryDelivery'>> {
    const items = await this.dispatcher.retryNow(args.id);
    return { requeued: items.map((i) => i.id) };
  }

  private find(state: State, id: string): StoredChannel {
    const channel = state.channels.get(id);
    if (!channel) {
      const ids = [...state.channels.keys()];
      throw new BellaError(
        'not_found',
        ids.length
          ? `no channel ${id}; channels: ${ids.join(', ')}`
          : `no channel ${id}; add one with \`bella notifications channels add\``,
      );
    }
    return channel;
  }

  private channels(state: State): Channel[] {
    return [...state.channels.values()].map((c) => this.open(c));
  }

  /** The channel as the dispatcher uses it: its current settings, URL and secrets opened. */
  private open(stored: StoredChannel): Channel {
    const { sealedUrl, sealedSecret, previousSecret, ...rest } = stored;
    return {
      ...rest,
      url: this.unseal(stored.id, 'url', sealedUrl),
      events: rest.events as Channel['events'],
      ...(sealedSecret ? { secret: this.unseal(stored.id, 'secret', sealedSecret) } : {}),
      ...(previousSecret
        ? {
            previousSecret: {
              secret: this.unseal(stored.id, 'secret', previousSecret.sealed),
              until: previousSecret.until,
            },
          }
        : {}),
    };
  }

  // Channel URLs and secrets are credentials: sealed at rest, bound to their channel and field.
  private seal(id: string, field: 'url' | 'secret', value: string): string {
    return seal(this.ctx.store.keys.channelKey, value, `channel:${id}:${field}`);
  }

  /** Opened once per sealed value: a new URL or secret is a new sealed value, so nothing stale is served. */
  private unseal(id: string, field: 'url' | 'secret', sealed: string): string {
    const cacheKey = `${id}:${field}:${sealed}`;
    let value = this.unsealed.get(cacheKey);
    if (value === undefined) {
      value = open(this.ctx.store.keys.channelKey, sealed, `channel:${id}:${field}`).toString('utf8');
      this.unsealed.set(cacheKey, value);
    }
    return value;
  }

  /** The dispatcher's view of the durable outbox; every write is one commit. */
  private outboxStore(): OutboxStore {
    const state = () => this.ctx.store.state;
    return {
      channels: () => this.channels(state()),
      pending: (channelId, limit) => {
        const ids = this.itemIds().get(channelId) ?? [];
        const out: OutboxItem[] = [];
        for (const id of ids) {
          const item = state().outbox.get(id);
          if (item?.status === 'pending') out.push(item as OutboxItem);
          if (out.length === limit) break;
        }
        return out;
      },
      get: (itemId) => state().outbox.get(itemId) as OutboxItem | undefined,
      recordAttempt: (attempt, updates) =>
        this.ctx.store.transact((s, touched) => {
          logAttempt(s, touched, attempt);
          this.apply(s, touched, updates);
          return { result: undefined, audit: [] };
        }, 'read'),
      requeue: (updates) =>
        this.ctx.store.transact((s, touched) => {
          this.apply(s, touched, updates);
          return { result: undefined, audit: [] };
        }, 'read'),
      expire: async (channelId) => {
        const drops = await this.ctx.store.transact(
          (s, touched) => ({ result: this.bound(s, touched, channelId, this.ctx.clock()), audit: [] }),
          'release',
        );
        for (const drop of drops) this.reportDrop(drop);
      },
      disableChannel: (channelId, disabled) =>
        this.ctx.store.transact((s, touched) => {
          const channel = s.channels.get(channelId);
          if (channel) {
            channel.disabled = disabled;
            touched.record('channel', channelId);
          }
          return { result: undefined, audit: [] };
        }, 'read'),
    };
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

  private reportHealth(health: ChannelHealth): void {
    this.ctx.log(
      health.disabled
        ? `channels: ${health.name} (${health.kind}) disabled: ${health.disabled.reason}`
        : health.failing
          ? `channels: ${health.name} (${health.kind}) is failing: ${health.lastError ?? 'no answer'}`
          : `channels: ${health.name} (${health.kind}) delivers again`,
    );
    this.changed();
  }

  private changed(): void {
    this.ctx.events.emit({
      type: 'DataChanged',
      at: new Date(this.ctx.clock()).toISOString(),
      resource: 'notifications',
    });
  }
}

function healthView(h: ChannelHealth | undefined) {
  if (!h) return null;
  return {
    failing: h.failing,
    since: h.since === null ? null : new Date(h.since).toISOString(),
    lastError: h.lastError,
    lastStatus: h.lastStatus,
    lastDeliveredAt: h.lastDeliveredAt === null ? null : new Date(h.lastDeliveredAt).toISOString(),
    failedCount: h.failedCount,
    droppedCount: h.droppedCount,
  };
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
