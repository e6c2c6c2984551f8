import { acting } from './team/caller';
import { BellaError, type OperationArgs, type OperationOutput } from '../api';
import {
  Dispatcher,
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
} from '../channels';
import { open, seal, type State, type StoredChannel, type Touched } from '../store';
import { ChannelOutbox, type OutboxBound } from './channel-outbox';
import { findEnvironment, findProject } from './lookup';
import type { DesktopNotificationsService } from './desktop-notifications';
import type { ServiceContext } from './service-context';

/** Knobs of {@link ChannelsService}; tests shorten them (the daemon reads them from BELLA_CHANNEL_* variables). */
export interface ChannelOptions extends OutboxBound {
  /** The first wait between attempts. Default 2 min. */
  baseRetryDelayMs?: number;
}

/** How long the old signing secret keeps signing after a rotation. */
const SECRET_OVERLAP_MS = 24 * 3600_000;

/**
 * Notification channels (signed webhooks, Slack, Discord): stored with their URLs and secrets
 * sealed, fed by a durable outbox written in the same commit as the change an event is about, and
 * delivered at least once by the {@link Dispatcher}, off the request path. The outbox and the
 * delivery log are the {@link ChannelOutbox}'s; this service keeps the channels' settings.
 */
export class ChannelsService {
  readonly dispatcher: Dispatcher;
  private readonly outbox: ChannelOutbox;
  private readonly unsealed = new Map<string, string>();

  constructor(
    private readonly ctx: ServiceContext,
    desktop: DesktopNotificationsService,
    options: ChannelOptions = {},
  ) {
    this.outbox = new ChannelOutbox(
      ctx,
      desktop,
      {
        channels: (state) => this.channels(state),
        dropped: (channelId, count) => this.dispatcher.dropped(channelId, count),
        changed: () => this.changed(),
      },
      options,
    );
    this.dispatcher = new Dispatcher({
      baseRetryDelayMs: options.baseRetryDelayMs,
      maxAgeMs: this.outbox.maxAgeMs,
      store: this.outbox,
      clock: {
        now: ctx.clock,
        setTimer: (fn, ms) => setTimeout(fn, ms).unref(),
        clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
      },
      onHealthChange: (health) => this.reportHealth(health),
      onAttempt: (attempt) => {
        // Delivering again: the next drop on this channel is news again.
        if (attempt.outcome === 'delivered') this.outbox.delivered(attempt.channelId);
        this.changed();
      },
      onError: (err) => ctx.log(`channels: ${(err as Error).message}`),
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
   * commit as the change. Call {@link committed} once it committed.
   */
  fanOut(state: State, touched: Touched, events: readonly ChannelEvent[]): void {
    this.outbox.fanOut(state, touched, events);
  }

  /** After a commit that may have written outbox items: deliver them now, not at the next tick. */
  committed(): void {
    this.outbox.committed();
    this.dispatcher.kick();
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
            actor: acting(),
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
      // Its undelivered events go with it: nobody will receive them.
      const dropped = this.outbox.removeChannel(state, touched, channel.id);
      return {
        result: dropped,
        audit: [
          {
            event: 'ChannelRemoved',
            outcome: 'Success',
            actor: acting(),
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
    await this.outbox.recordAttempt(attempt, []);
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
            actor: acting(),
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
            actor: acting(),
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
