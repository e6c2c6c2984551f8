import { formatDuration } from '../api/durations';

/** Lays rows out as a plain-text table with a header line; columns are separated by two spaces. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** Formats `key value` pairs with the keys aligned. */
export function formatPairs(pairs: [string, string][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
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

/** A masked secret value: never reveals length beyond a coarse hint. */
export function mask(value: string | undefined): string {
  return value === undefined || value.length > 0 ? '••••••••' : '(empty)';
}

/** One CSV field, quoted when needed (RFC 4180). */
export function csvField(value: unknown): string {
  const text = value === undefined || value === null ? '' : Array.isArray(value) ? value.join(';') : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Rows as CSV text with a header line and a trailing newline. */
export function formatCsv(headers: string[], rows: unknown[][]): string {
  return [headers, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/**
 * Quotes one value so that `dotenv.parse` gives it back unchanged. dotenv does not unescape
 * anything but `\n`/`\r` inside double quotes, so the quote style is chosen by content.
 * Returns `undefined` when no style round-trips.
 */
export function dotenvQuote(value: string): string | undefined {
  if (value.endsWith('\\')) {
    // A trailing backslash would escape the closing quote; only a bare value survives.
    return /^[^\s#'"`][^\r\n#]*$/.test(value) && value.trim() === value ? value : undefined;
  }
  if (!/['\r\n]/.test(value)) return `'${value}'`;
  if (!/[`\r]/.test(value)) return `\`${value}\``;
  if (!/["]|\\[nr]/.test(value)) return `"${value.replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
  return undefined;
}

/** Secrets as a `.env` file that `dotenv.parse` reads back to the same map. */
export function toDotenv(secrets: Record<string, string>): string {
  const lines: string[] = [];
  for (const key of Object.keys(secrets).sort()) {
    const quoted = dotenvQuote(secrets[key] ?? '');
    if (quoted === undefined) {
      throw new DotenvValueError(key);
    }
    lines.push(`${key}=${quoted}`);
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** A value that the dotenv format cannot carry. */
export class DotenvValueError extends Error {
  constructor(readonly key: string) {
    super(`the value of ${key} cannot be written as dotenv without changing it: use -o json or -o yaml`);
  }
}
