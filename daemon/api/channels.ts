import type { LeaseEventName } from './events';

// Notification channels as they cross the wire: the engine in daemon/channels works on these.

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
  'CredentialRevokeFailed',
  'AccessRequested',
  'BreakGlass',
] as const satisfies readonly (
  LeaseEventName | 'TokenRefusals' | 'CredentialRevokeFailed' | 'AccessRequested' | 'BreakGlass'
)[];
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
  /** CredentialRevokeFailed: the database, the login role not dropped yet and why (never a URL). */
  database?: string;
  user?: string;
  error?: string;
  /** AccessRequested, BreakGlass: the request and who made it (never a way to approve it). */
  requestId?: string;
  requester?: string;
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

/**
 * How one attempt ended. `disabled`: the receiver answered 410 Gone and the channel was disabled.
 * `dropped`: no attempt; the events left the outbox undelivered (its bound: count or age).
 */
export type AttemptOutcome = 'delivered' | 'retry' | 'failed' | 'disabled' | 'dropped';

/** One entry of the delivery log (`bella notifications deliveries`). */
export interface DeliveryAttempt {
  /** `att_…`. */
  id: string;
  channelId: string;
  /** The items this request carried: one for a webhook, several for a grouped Slack/Discord message. */
  itemIds: string[];
  event: ChannelEventType;
  /** 1-based number of this attempt (of the first item); for `dropped`, the attempts it had made. */
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

/** A channel as `channels list`, the API and the desktop show it: URL masked, no secret. */
export interface ChannelView {
  id: string;
  kind: ChannelKind;
  name: string;
  /** Scheme, host and `…`: the rest of the URL is a credential. */
  url: string;
  project?: string;
  environment?: string;
  events: ChannelEventType[];
  /** ms since the epoch. */
  createdAt: number;
  disabled?: ChannelDisabled | null;
  /** Webhooks: whether a signing secret is set (the secret itself is shown once, at add/rotate). */
  signed: boolean;
  /** What `add` allowed: loopback/private addresses, plain http://, another Slack/Discord host. */
  allowPrivate?: boolean;
  insecureHttp?: boolean;
  anyHost?: boolean;
}

/** How a channel is doing, as `channels list` and `daemon status` show it. */
export interface ChannelHealthView {
  failing: boolean;
  since: string | null;
  lastError: string | null;
  lastStatus: number | null;
  lastDeliveredAt: string | null;
  failedCount: number;
  /** Events dropped undelivered by the outbox bound since the daemon started (absent: none known). */
  droppedCount?: number;
}
