import { formatDuration } from '../api/durations';
import { displayWidth, escapeControls, padToWidth } from '../base/common/terminal-text';

/** `key value` pairs with the keys aligned; values are shown terminal-safe. */
export function formatPairs(pairs: Array<[string, string]>): string {
  const width = Math.max(...pairs.map(([k]) => displayWidth(k)));
  return pairs.map(([k, v]) => `${padToWidth(k, width)}  ${escapeControls(v)}`).join('\n');
}

/** An ISO time without milliseconds, e.g. `2026-11-28T09:10:00Z`. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A time relative to now: `in 4h`, `3m ago`. */
export function formatRelative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const diff = Math.round((t - now) / 1000);
  if (Math.abs(diff) < 1) return 'now';
  return diff > 0 ? `in ${formatDuration(diff)}` : `${formatDuration(-diff)} ago`;
}

/** An absolute time followed by its relative form: `2026-11-28T09:10:00Z (in 4h)`. */
export function formatWhen(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-';
  return `${formatTime(iso)} (${formatRelative(iso, now)})`;
}

/** A ttl the way people say it: whole hours below a week (`48h`), days from a week on (`7d`). */
export function formatTtl(seconds: number): string {
  if (seconds % 86400 === 0 && seconds >= 7 * 86400) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  return formatDuration(seconds);
}

/** A masked secret value: never reveals its length. */
export function mask(value: string | undefined): string {
  return value === undefined || value.length > 0 ? '••••••••' : '(empty)';
}
