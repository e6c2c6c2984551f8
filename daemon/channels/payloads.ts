import { type ExpiryWarning, formatExpiryWarning, formatLocalTime, formatRemaining } from '../notify/format';
import {
  type ChannelEventData,
  type ChannelEventType,
  type ChannelKind,
  type EventLease,
  type OutboxItem,
  toEventData,
} from './types';

/** How chat messages render times. Defaults: the system's locale and time zone. */
export interface RenderOptions {
  /** ms since the epoch: "expires in 2 h" is measured from here (the attempt time). */
  now: number;
  timeZone?: string;
  locale?: string;
}

/** The Standard Webhooks body: the product's event name, the event time, metadata. */
export interface WebhookPayload {
  type: ChannelEventType;
  /** ISO 8601: when the event happened (not when this attempt was made). */
  timestamp: string;
  data: ChannelEventData;
}

/** A Slack Block Kit block, as far as bella uses them. */
export type SlackBlock =
  | { type: 'section'; text: { type: 'mrkdwn'; text: string } }
  | { type: 'context'; elements: Array<{ type: 'mrkdwn'; text: string }> };

/** A Slack incoming-webhook message: Block Kit blocks plus the plain `text` fallback for notifications. */
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

/** A Discord execute-webhook message: `content` plus one embed, with every mention disabled. */
export interface DiscordMessage {
  content: string;
  embeds: Array<{ title: string; description: string; color: number; timestamp: string; footer: { text: string } }>;
  allowed_mentions: { parse: [] };
}

/** A message for people before it is escaped for Slack or Discord. */
export interface Summary {
  title: string;
  lines: string[];
}

const MAX_LISTED = 5;
const MAX_KEYS = 6;
const MAX_REASON = 200;
const SLACK_SECTION_MAX = 3000;
const DISCORD_CONTENT_MAX = 2000;
const DISCORD_TITLE_MAX = 256;
const DISCORD_DESCRIPTION_MAX = 4096;

const COLORS: Record<ChannelEventType, number> = {
  LeaseIssued: 0x2e7d32,
  LeaseRenewed: 0x2e7d32,
  LeaseExpiringSoon: 0xf9a825,
  LeaseRevoked: 0xc62828,
  LeaseExpired: 0xc62828,
  LeasesExpiredAll: 0xc62828,
  TokenRefusals: 0xc62828,
  CredentialRevokeFailed: 0xc62828,
  AccessRequested: 0x1565c0,
  BreakGlass: 0xc62828,
};

/** The body of one webhook delivery: `{ type, timestamp, data }`, metadata only. */
export function webhookPayload(item: OutboxItem): WebhookPayload {
  return { type: item.event, timestamp: new Date(item.timestamp).toISOString(), data: toEventData(item.data) };
}

/**
 * Folds the items of one group (same event, same environment) into one event's data: the leases
 * of all of them, the earliest expiry, the refusals added up.
 */
export function mergeEventData(items: readonly OutboxItem[]): ChannelEventData {
  const first = items[0];
  if (!first) throw new Error('mergeEventData needs at least one item');
  const all = items.map((i) => toEventData(i.data));
  const leaseIds = [...new Set(all.flatMap((d) => d.leaseIds))];
  const leases = new Map<string, EventLease>();
  for (const lease of all.flatMap((d) => d.leases ?? [])) leases.set(lease.id, lease);
  const expiries = all.map((d) => d.expiresAt).filter((e): e is string => e !== undefined);
  const reasons = new Set(all.map((d) => d.reason));
  const refusals = all.reduce((sum, d) => sum + (d.refusals ?? 0), 0);
  const base = all[0] as ChannelEventData;
  return {
    project: base.project,
    environment: base.environment,
    leaseIds,
    ...(leases.size > 0 ? { leases: [...leases.values()] } : {}),
    ...(expiries.length > 0 ? { expiresAt: expiries.sort()[0] } : {}),
    ...(reasons.size === 1 && base.reason !== undefined ? { reason: base.reason } : {}),
    ...(all.some((d) => d.refusals !== undefined) ? { refusals } : {}),
    ...(base.windowSeconds !== undefined ? { windowSeconds: Math.max(...all.map((d) => d.windowSeconds ?? 0)) } : {}),
    ...(base.database !== undefined ? { database: base.database, user: base.user, error: base.error } : {}),
    // Requests batched together keep a requester or request id only when they all share it.
    ...(base.requester !== undefined && all.every((d) => d.requester === base.requester)
      ? { requester: base.requester }
      : {}),
    ...(all.length === 1 && base.requestId !== undefined ? { requestId: base.requestId } : {}),
  };
}

// Control characters (a reason typed with escapes) are dropped so they cannot reshape the message.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const clean = (text: string, max = MAX_REASON): string => {
  const flat = text.replace(CONTROL, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

const keyList = (scope: readonly string[]): string => {
  if (scope.length === 0) return '(no keys)';
  const shown = scope.slice(0, MAX_KEYS).map((k) => clean(k, 80));
  return scope.length > MAX_KEYS ? `${shown.join(', ')} +${scope.length - MAX_KEYS} more` : shown.join(', ');
};

function cleanLease(lease: EventLease): EventLease {
  return { id: clean(lease.id, 40), scope: lease.scope, reason: clean(lease.reason), expiresAt: lease.expiresAt };
}

const count = (n: number, one: string, many: string): string => (n === 1 ? one : `${n} ${many}`);

function leaseLines(data: ChannelEventData, options: RenderOptions): string[] {
  const leases = (data.leases ?? []).map(cleanLease);
  const remaining = (l: EventLease): string => {
    const at = Date.parse(l.expiresAt);
    if (Number.isNaN(at)) return '';
    const left = at - options.now;
    return left > 0 ? ` · expires in ${formatRemaining(left)} (${formatLocalTime(at, options)})` : ' · expired';
  };
  const lines = leases
    .slice(0, MAX_LISTED)
    .map((l) => `• ${keyList(l.scope)}${remaining(l)} · ${l.reason || '(no reason)'} (${l.id})`);
  const listed = Math.min(leases.length, MAX_LISTED);
  const unlisted = data.leaseIds.length - listed;
  if (listed === 0 && data.leaseIds.length > 0) {
    lines.push(
      `Leases: ${data.leaseIds
        .slice(0, MAX_LISTED)
        .map((id) => clean(id, 40))
        .join(', ')}`,
    );
    if (data.leaseIds.length > MAX_LISTED) lines.push(`…and ${data.leaseIds.length - MAX_LISTED} more`);
  } else if (unlisted > 0) {
    lines.push(`…and ${unlisted} more`);
  }
  return lines;
}

function expiryWarning(
  where: { project: string; environment: string },
  data: ChannelEventData,
  options: RenderOptions,
) {
  const leases = (data.leases ?? []).map(cleanLease);
  const warnings: ExpiryWarning[] =
    leases.length > 0
      ? leases.map((l) => ({
          ...where,
          leaseId: l.id,
          scope: l.scope,
          reason: l.reason,
          expiresAt: Date.parse(l.expiresAt),
        }))
      : data.leaseIds.map((id) => ({
          ...where,
          leaseId: clean(id, 40),
          scope: [],
          reason: '',
          expiresAt: data.expiresAt ? Date.parse(data.expiresAt) : options.now,
        }));
  const notification = formatExpiryWarning({ ...where, warnings }, options);
  return { title: notification.title, lines: notification.message.split('\n').filter(Boolean) };
}

/**
 * What a Slack or Discord message says about a group of items of one event and environment, in
 * the desktop's words: "3 leases in my-api/production expire in 2 h", "20 leases issued in
 * my-api/production". Plain text; user text is cleaned of control characters and clipped.
 */
export function summarize(items: readonly OutboxItem[], options: RenderOptions): Summary {
  const data = mergeEventData(items);
  const event = (items[0] as OutboxItem).event;
  const where = { project: clean(data.project, 80), environment: clean(data.environment, 80) };
  const place = `${where.project}/${where.environment}`;
  const n = Math.max(1, data.leaseIds.length);
  const listHint = `See them: bella leases list --project ${where.project} --environment ${where.environment}`;
  const reasonLine = data.reason ? [`Reason: ${clean(data.reason)}`] : [];
  switch (event) {
    case 'LeaseExpiringSoon':
      return expiryWarning(where, data, options);
    case 'LeaseIssued':
      return { title: `${count(n, 'Lease', 'leases')} issued in ${place}`, lines: leaseLines(data, options) };
    case 'LeaseRenewed':
      return { title: `${count(n, 'Lease', 'leases')} renewed in ${place}`, lines: leaseLines(data, options) };
    case 'LeaseRevoked':
      return {
        title: `${count(n, 'Lease', 'leases')} revoked in ${place}`,
        lines: [...leaseLines(data, options), ...reasonLine],
      };
    case 'LeaseExpired':
      return {
        title: n === 1 ? `Lease for ${place} expired` : `${n} leases in ${place} expired`,
        lines: [...leaseLines(data, options), ...(n > 1 ? [listHint] : [])],
      };
    case 'LeasesExpiredAll':
      return {
        title: `All leases of ${place} expired (${count(data.leaseIds.length, '1 lease', 'leases')}); its credentials were rotated`,
        lines: [...reasonLine, 'Tokens issued before now no longer work anywhere.'],
      };
    case 'TokenRefusals': {
      const refusals = data.refusals ?? 0;
      const window = data.windowSeconds ? ` within ${formatRemaining(data.windowSeconds * 1000)}` : '';
      return {
        title: `${refusals} token ${refusals === 1 ? 'request' : 'requests'} refused for ${place}${window}`,
        lines: [
          ...reasonLine,
          `Details: bella audit list --project ${where.project} --environment ${where.environment} --outcome Denied`,
        ],
      };
    }
    case 'CredentialRevokeFailed':
      return {
        title: `A database login of ${place} could not be dropped yet`,
        lines: [
          `Database ${clean(data.database ?? '', 80)}, login role ${clean(data.user ?? '', 80)}: ${clean(data.error ?? '')}`,
          'bella keeps retrying; its VALID UNTIL refuses logins meanwhile. See: bella databases list',
        ],
      };
    // Never a way to approve: approval is on the approver's own machine (bella requests approve).
    case 'AccessRequested':
      return {
        title: `${clean(data.requester ?? 'someone', 80)} asks for access to ${place}`,
        lines: [...leaseLines(data, options), ...reasonLine, `Request ${clean(data.requestId ?? '', 40)}`],
      };
    case 'BreakGlass':
      return {
        title: `Break-glass: ${clean(data.requester ?? 'someone', 80)} took access to ${place} without approval`,
        lines: [
          ...leaseLines(data, options),
          ...reasonLine,
          `Request ${clean(data.requestId ?? '', 40)}: the owner reviews it`,
        ],
      };
  }
}

const MASS_MENTION = /@(everyone|here|channel)/gi;
// A zero-width space after `@` keeps the word readable but stops it pinging a whole channel.
const neutraliseMentions = (text: string): string => text.replace(MASS_MENTION, '@\u200b$1');

/**
 * Text for Slack mrkdwn: `&`, `<`, `>` escaped as Slack requires, so user text cannot open a
 * link, a user/channel mention (`<!channel>`) or a date token; mass mentions neutralised.
 */
export function escapeSlack(text: string): string {
  return neutraliseMentions(text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
}

/**
 * Text for Discord markdown: formatting characters backslash-escaped (no bold/links/spoilers
 * forged from a reason), `<` escaped so `<@id>`/`<#id>`/`<t:…>` stay literal, mass mentions
 * neutralised. `allowed_mentions: { parse: [] }` is the second line of defence.
 */
export function escapeDiscord(text: string): string {
  return neutraliseMentions(
    text.replace(/[\\*_~`|<>[\]]/g, (c) => `\\${c}`).replace(/^([#\-+]|\d+\.)/gm, (c) => `\\${c}`),
  );
}

// Clipping after escaping must not leave half an escape (`&am`, a lone `\`) at the end.
function clip(escaped: string, max: number): string {
  if (escaped.length <= max) return escaped;
  return `${escaped.slice(0, max - 1).replace(/(&[a-z]*|\\)$/, '')}…`;
}

function lines(summary: Summary, escape: (s: string) => string, max: number): string {
  return clip(summary.lines.map(escape).join('\n'), max);
}

/** A Slack message for a group of items (one item is a group of one). */
export function slackMessage(items: readonly OutboxItem[], options: RenderOptions): SlackMessage {
  const summary = summarize(items, options);
  const first = items[0] as OutboxItem;
  const title = clip(escapeSlack(summary.title), SLACK_SECTION_MAX - 2);
  const body = lines(summary, escapeSlack, SLACK_SECTION_MAX);
  const blocks: SlackBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: `*${title}*` } }];
  if (body) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: body } });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `bella · ${first.event}` }] });
  return { text: body ? `${title}\n${body}` : title, blocks };
}

/** A Discord message for a group of items (one item is a group of one). */
export function discordMessage(items: readonly OutboxItem[], options: RenderOptions): DiscordMessage {
  const summary = summarize(items, options);
  const first = items[0] as OutboxItem;
  const data = mergeEventData(items);
  return {
    content: clip(escapeDiscord(summary.title), DISCORD_CONTENT_MAX),
    embeds: [
      {
        title: clip(escapeDiscord(`${clean(data.project, 80)}/${clean(data.environment, 80)}`), DISCORD_TITLE_MAX),
        description: lines(summary, escapeDiscord, DISCORD_DESCRIPTION_MAX),
        color: COLORS[first.event],
        timestamp: new Date(first.timestamp).toISOString(),
        footer: { text: `bella · ${first.event}` },
      },
    ],
    // No @everyone, @here, role or user ping, whatever the text says.
    allowed_mentions: { parse: [] },
  };
}

/**
 * The JSON body for a channel kind. Webhooks carry exactly one item; Slack and Discord a group.
 */
export function renderBody(kind: ChannelKind, items: readonly OutboxItem[], options: RenderOptions): string {
  if (kind === 'webhook') {
    if (items.length !== 1) throw new Error('a webhook delivery carries exactly one event');
    return JSON.stringify(webhookPayload(items[0] as OutboxItem));
  }
  return JSON.stringify(kind === 'slack' ? slackMessage(items, options) : discordMessage(items, options));
}
