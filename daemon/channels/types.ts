import {
  CHANNEL_EVENTS,
  DEFAULT_CHANNEL_EVENTS,
  type ChannelDisabled,
  type ChannelEventData,
  type ChannelEventType,
  type ChannelKind,
  type ChannelView,
  type OutboxItem,
} from '../api/channels';
import { BellaError } from '../api/errors';

export * from '../api/channels';

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
  /** What `add` allowed (see address.ts): loopback/private addresses, plain http://, another host for Slack/Discord. */
  allowPrivate?: boolean;
  insecureHttp?: boolean;
  anyHost?: boolean;
}

/** The {@link ChannelView} of a channel: the only form in which a channel leaves the daemon. */
export function toChannelView(channel: Channel): ChannelView {
  const { url, secret, previousSecret: _previous, ...rest } = channel;
  return { ...rest, url: maskUrl(url), signed: Boolean(secret) };
}

/** An event as the lead's services raise it, before it is fanned out to channels. */
export interface ChannelEvent {
  type: ChannelEventType;
  /** ms since the epoch: the commit time of the change that caused it. */
  at: number;
  data: ChannelEventData;
}

/** The fields of an item that an attempt or a retry changes. */
export type OutboxItemUpdate = Pick<
  OutboxItem,
  'id' | 'attempts' | 'nextAttemptAt' | 'status' | 'lastError' | 'lastStatus'
>;

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
  // Break-glass reaches every channel, whatever events it chose (issue 17).
  if (!channel.events.includes(event.type) && event.type !== 'BreakGlass') return false;
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
    ...optional('database', str(data.database)),
    ...optional('user', str(data.user)),
    ...optional('error', str(data.error)),
    ...optional('requestId', str(data.requestId)),
    ...optional('requester', str(data.requester)),
  };
}
