import { BellaError } from '../api/errors';
import type { LeaseEventName } from '../api/events';

/** The kinds of notification channel. */
export const CHANNEL_KINDS = ['webhook', 'slack', 'discord'] as const;
/** One of {@link CHANNEL_KINDS}. */
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** Every event a channel can subscribe to, in the product's own names. */
export const CHANNEL_EVENTS = [
  'LeaseIssued',
  'LeaseRenewed',
  'LeaseRevoked',
  'LeaseExpiringSoon',
  'LeaseExpired',
  'LeasesExpiredAll',
  'TokenRefusals',
] as const satisfies readonly (LeaseEventName | 'TokenRefusals')[];
/** One of {@link CHANNEL_EVENTS}. */
export type ChannelEventType = (typeof CHANNEL_EVENTS)[number];

/** What a channel receives when `add` names no `--events`: all of them. */
export const DEFAULT_CHANNEL_EVENTS: readonly ChannelEventType[] = CHANNEL_EVENTS;

/** Why and when a channel stopped receiving deliveries. */
export interface ChannelDisabled {
  /** ms since the epoch. */
  at: number;
  /** For people, e.g. "the receiver answered 410 Gone". Never contains the URL. */
  reason: string;
}

/**
 * A notification channel as stored. `url` and `secret` are credentials: store them encrypted like
 * secret values, show the URL only through {@link maskUrl}, never log either.
 */
export interface Channel {
  /** `ch_…` (`newChannelId()` in outbox.ts). */
  id: string;
  kind: ChannelKind;
  name: string;
  /** http: or https:. For Slack and Discord the URL itself is the credential. */
  url: string;
  /** Only events of this project (and of `environment`, if set, within it). */
  project?: string;
  environment?: string;
  /** Events delivered to this channel; {@link DEFAULT_CHANNEL_EVENTS} when none were named. */
  events: ChannelEventType[];
  /** Webhooks only: the Standard Webhooks signing secret, `whsec_` + base64. */
  secret?: string;
  /**
   * Webhooks only, after a rotation: the old secret keeps signing (a second `v1,` signature)
   * until `until` (ms since the epoch), so receivers can switch without dropping events.
   */
  previousSecret?: { secret: string; until: number };
  /** ms since the epoch. */
  createdAt: number;
  /** Set when deliveries stopped (410 Gone, or by the owner); pending items wait for re-enabling. */
  disabled?: ChannelDisabled | null;
}

/** A channel as `channels list`, the API and the desktop show it: URL masked, no secret. */
export type ChannelView = Omit<Channel, 'url' | 'secret' | 'previousSecret'> & {
  url: string;
  /** Webhooks: whether a signing secret is set (the secret itself is shown once, at add/rotate). */
  signed: boolean;
};

/** The {@link ChannelView} of a channel: the only form in which a channel leaves the daemon. */
export function toChannelView(channel: Channel): ChannelView {
  const { url, secret, previousSecret: _previous, ...rest } = channel;
  return { ...rest, url: maskUrl(url), signed: Boolean(secret) };
}

/** One lease as an event describes it: metadata only. */
export interface EventLease {
  id: string;
  /** Secret key names (or globs) the lease can read; never values. */
  scope: string[];
  reason: string;
  /** ISO 8601. */
  expiresAt: string;
}

/**
 * What an event says, metadata only: never a secret value or a token. Build it with
 * {@link toEventData}, which copies only these fields.
 */
export interface ChannelEventData {
  project: string;
  environment: string;
  /** The leases concerned; several for a group crossing together and for expire-all; may be empty for TokenRefusals. */
  leaseIds: string[];
  /** Per-lease details, when known (issue, renew, expiry warnings). */
  leases?: EventLease[];
  /** ISO 8601: the expiry, when the event concerns a single instant. */
  expiresAt?: string;
  /** Why (a revocation's or an expire-all's reason), when there is one for the whole event. */
  reason?: string;
  /** TokenRefusals: how many refusals, within how many seconds. */
  refusals?: number;
  windowSeconds?: number;
}

/** An event as the lead's services raise it, before it is fanned out to channels. */
export interface ChannelEvent {
  type: ChannelEventType;
  /** ms since the epoch: the commit time of the change that caused it. */
  at: number;
  data: ChannelEventData;
}

/** Where one outbox item stands. */
export type OutboxStatus = 'pending' | 'delivered' | 'failed';

/**
 * One delivery of one event to one channel, written in the same commit as the change that caused
 * it. `id` is the Standard Webhooks message id (`webhook-id`), the same on every attempt so that
 * receivers can de-duplicate.
 */
export interface OutboxItem {
  /** `msg_…`. */
  id: string;
  channelId: string;
  event: ChannelEventType;
  /** ms since the epoch: when the event happened (the body's `timestamp`). */
  timestamp: number;
  data: ChannelEventData;
  /** Attempts made so far. */
  attempts: number;
  /** ms since the epoch: not sent before this. */
  nextAttemptAt: number;
  status: OutboxStatus;
  /** Short reason of the last failed attempt (no URL, no body), or null. */
  lastError: string | null;
  /** HTTP status of the last attempt, null when none was received. */
  lastStatus: number | null;
}

/** The fields of an item that an attempt or a retry changes. */
export type OutboxItemUpdate = Pick<
  OutboxItem,
  'id' | 'attempts' | 'nextAttemptAt' | 'status' | 'lastError' | 'lastStatus'
>;

/** How one attempt ended. `disabled`: the receiver answered 410 Gone and the channel was disabled. */
export type AttemptOutcome = 'delivered' | 'retry' | 'failed' | 'disabled';

/** One entry of the delivery log (`bella notifications deliveries`). */
export interface DeliveryAttempt {
  /** `att_…`. */
  id: string;
  channelId: string;
  /** The items this request carried: one for a webhook, several for a grouped Slack/Discord message. */
  itemIds: string[];
  event: ChannelEventType;
  /** 1-based number of this attempt (of the first item). */
  attempt: number;
  /** ms since the epoch: when the request started. */
  at: number;
  durationMs: number;
  outcome: AttemptOutcome;
  status: number | null;
  error: string | null;
  /** When the next attempt is due, for `retry`. */
  nextAttemptAt: number | null;
}

/**
 * A channel URL for display: scheme, host and `…`, e.g. `https://hooks.slack.com/…`. The path and
 * query of Slack/Discord URLs are the credential; user info never shows either.
 */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}/…`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * Checks a channel URL at `add`: absolute, http: or https:, else `invalid_argument` (the message
 * never repeats the URL: it is a credential). Other schemes (file:, data:, …) are refused so a
 * channel can only ever POST over HTTP.
 */
export function validateChannelUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BellaError(
      'invalid_argument',
      '--url is not a URL: give the full address, e.g. https://example.com/hook',
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new BellaError('invalid_argument', `--url must start with https:// or http:// (got ${parsed.protocol})`);
  }
  return parsed;
}

/** Parses `--events a,b`: known names only, no repeats; none named means {@link DEFAULT_CHANNEL_EVENTS}. */
export function parseChannelEvents(list: string | undefined): ChannelEventType[] {
  const names = (list ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) return [...DEFAULT_CHANNEL_EVENTS];
  const unknown = names.filter((n) => !(CHANNEL_EVENTS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new BellaError(
      'invalid_argument',
      `--events: unknown event ${unknown.join(', ')}; choose from ${CHANNEL_EVENTS.join(', ')}`,
    );
  }
  return [...new Set(names)] as ChannelEventType[];
}

/** Whether a channel wants an event: enabled, subscribed, and the event is in its project/environment. */
export function channelWants(channel: Channel, event: ChannelEvent): boolean {
  if (channel.disabled) return false;
  if (!channel.events.includes(event.type)) return false;
  if (channel.project !== undefined && channel.project !== event.data.project) return false;
  if (channel.environment !== undefined && channel.environment !== event.data.environment) return false;
  return true;
}

const TOKEN_PATTERN = /bax-[A-Za-z0-9_-]{8,}/g;

/**
 * Replaces anything shaped like a `bax-…` token in user text with `[token removed]`: a holder who pastes a
 * token into a lease's reason must not have it posted to a webhook, Slack or Discord.
 */
export function redactTokens(text: string): string {
  return text.replace(TOKEN_PATTERN, '[token removed]');
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string').map(redactTokens) : [];

const optional = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> =>
  value === undefined ? {} : ({ [key]: value } as Record<K, V>);

/**
 * A copy of event data with only the known metadata fields, so a caller that passes a richer
 * object (a lease record with a token hash, a secret map) never leaks it into a payload; every
 * string also goes through {@link redactTokens}.
 */
export function toEventData(data: ChannelEventData): ChannelEventData {
  const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? redactTokens(v) : undefined);
  const text = (v: unknown): string => redactTokens(String(v ?? ''));
  return {
    project: text(data.project),
    environment: text(data.environment),
    leaseIds: strings(data.leaseIds),
    ...optional(
      'leases',
      Array.isArray(data.leases)
        ? data.leases.map((l) => ({
            id: text(l.id),
            scope: strings(l.scope),
            reason: text(l.reason),
            expiresAt: text(l.expiresAt),
          }))
        : undefined,
    ),
    ...optional('expiresAt', str(data.expiresAt)),
    ...optional('reason', str(data.reason)),
    ...optional('refusals', num(data.refusals)),
    ...optional('windowSeconds', num(data.windowSeconds)),
  };
}
