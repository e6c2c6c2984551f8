import type { DesktopNotification } from './notifier';
import { plural } from '../base/common/plural';

/** One lease reaching its warn point: what the daemon knows when it warns. */
export interface ExpiryWarning {
  project: string;
  environment: string;
  leaseId: string;
  /** Secret keys (or globs) the lease can read. */
  scope: string[];
  reason: string;
  /** ms since the epoch. */
  expiresAt: number;
}

/** Warnings of one project/environment that crossed their warn point together. */
export interface WarningGroup {
  project: string;
  environment: string;
  warnings: ExpiryWarning[];
}

/** How to render times. Defaults: the system locale and time zone. */
export interface TimeFormatOptions {
  /** ms since the epoch; "in 2 h" is measured from here. */
  now: number;
  timeZone?: string;
  locale?: string;
}

/** A lease named by where it lives, for the restart summary. */
export interface LeaseRef {
  project: string;
  environment: string;
}

/** What the daemon found at startup. */
export interface CatchUpSummary {
  /** Leases whose expiry passed while the daemon was down (now expired). */
  expired: LeaseRef[];
  /** Active leases already inside their warning window. */
  expiringSoon: LeaseRef[];
}

const MAX_LISTED_LEASES = 5;
const MAX_LISTED_KEYS = 6;
const MAX_LISTED_ENVIRONMENTS = 8;

/** A remaining time for people: `4 s`, `45 min`, `2 h`, `1 h 30 min`, `3 d 4 h`. */
export function formatRemaining(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const restMinutes = minutes % 60;
  if (hours >= 48) {
    const days = Math.floor(hours / 24);
    const restHours = hours % 24;
    return restHours ? `${days} d ${restHours} h` : `${days} d`;
  }
  return restMinutes ? `${hours} h ${restMinutes} min` : `${hours} h`;
}

function expiresIn(ms: number): string {
  return Math.round(ms / 1000) <= 0 ? 'now' : `in ${formatRemaining(ms)}`;
}

function dayKey(at: number, timeZone: string | undefined): string {
  return new Date(at).toLocaleDateString('en-CA', { timeZone });
}

/** A local clock time; with the date when it is not today; with seconds when under an hour away. */
export function formatLocalTime(at: number, options: TimeFormatOptions): string {
  const { timeZone, locale } = options;
  const withSeconds = at - options.now < 3_600_000;
  const sameDay = dayKey(at, timeZone) === dayKey(options.now, timeZone);
  return new Intl.DateTimeFormat(locale, {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    ...(withSeconds ? { second: '2-digit' } : {}),
    ...(sameDay ? {} : { weekday: 'short', day: 'numeric', month: 'short' }),
  }).format(new Date(at));
}

function keys(scope: string[]): string {
  if (scope.length === 0) return '(no keys)';
  const shown = scope.slice(0, MAX_LISTED_KEYS).join(', ');
  return scope.length > MAX_LISTED_KEYS ? `${shown} +${scope.length - MAX_LISTED_KEYS} more` : shown;
}

/**
 * The notification for a group of expiry warnings. One lease: "Lease for my-api/production
 * expires in 2 h" with its keys, local expiry time, reason and a renew hint. Several: "3 leases
 * in my-api/production expire in 2 h" listing up to five of them.
 */
export function formatExpiryWarning(group: WarningGroup, options: TimeFormatOptions): DesktopNotification {
  const where = `${group.project}/${group.environment}`;
  const warnings = [...group.warnings].sort((a, b) => a.expiresAt - b.expiresAt);
  const first = warnings[0];
  if (!first) return { title: `No leases in ${where} expire soon`, message: '' };
  const when = expiresIn(first.expiresAt - options.now);
  if (warnings.length === 1) {
    return {
      title: `Lease for ${where} expires ${when}`,
      message: [
        `Expires at ${formatLocalTime(first.expiresAt, options)}`,
        `Keys: ${keys(first.scope)}`,
        `Reason: ${first.reason || '(none given)'}`,
        `Renew: bella leases renew ${first.leaseId}`,
      ].join('\n'),
    };
  }
  const lines = warnings
    .slice(0, MAX_LISTED_LEASES)
    .map(
      (w) =>
        `• ${keys(w.scope)} · ${formatLocalTime(w.expiresAt, options)} · ${w.reason || '(no reason)'} (${w.leaseId})`,
    );
  if (warnings.length > MAX_LISTED_LEASES) lines.push(`…and ${warnings.length - MAX_LISTED_LEASES} more`);
  lines.push(`See them: bella leases list --project ${group.project} --environment ${group.environment}`);
  return { title: `${warnings.length} leases in ${where} expire ${when}`, message: lines.join('\n') };
}

/**
 * The one notification sent after a restart: "While bella was stopped, 4 leases expired; 2
 * expire within the warning window", with a line per project/environment.
 */
export function formatCatchUpSummary(summary: CatchUpSummary): DesktopNotification {
  const expired = summary.expired.length;
  const soon = summary.expiringSoon.length;
  const parts: string[] = [];
  if (expired > 0) parts.push(`${plural(expired, 'lease', 'leases')} expired`);
  if (soon > 0) {
    const noun = expired > 0 ? '' : soon === 1 ? ' lease' : ' leases';
    parts.push(`${soon}${noun} ${soon === 1 ? 'expires' : 'expire'} within the warning window`);
  }
  const title = `While bella was stopped, ${parts.length > 0 ? parts.join('; ') : 'no leases expired'}`;

  const perEnv = new Map<string, { expired: number; soon: number }>();
  const bump = (ref: LeaseRef, field: 'expired' | 'soon'): void => {
    const key = `${ref.project}/${ref.environment}`;
    const entry = perEnv.get(key) ?? { expired: 0, soon: 0 };
    entry[field]++;
    perEnv.set(key, entry);
  };
  summary.expired.forEach((r) => bump(r, 'expired'));
  summary.expiringSoon.forEach((r) => bump(r, 'soon'));
  const lines = [...perEnv.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([where, c]) => {
      const counts = [c.expired ? `${c.expired} expired` : '', c.soon ? `${c.soon} expiring soon` : ''];
      return `${where}: ${counts.filter(Boolean).join(', ')}`;
    });
  const shown = lines.slice(0, MAX_LISTED_ENVIRONMENTS);
  if (lines.length > MAX_LISTED_ENVIRONMENTS) shown.push(`…and ${lines.length - MAX_LISTED_ENVIRONMENTS} more`);
  return { title, message: shown.join('\n') };
}
