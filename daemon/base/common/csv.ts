import { escapeControls } from './terminal-text';

/**
 * One CSV writer for every export (the CLI's `audit list -o csv`, the desktop's audit export):
 * RFC 4180 quoting, spreadsheet formula neutralisation, no raw control characters.
 */

/** One CSV field as text: lists joined by a space, nothing for null and undefined. */
function fieldText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.join(' ');
  return String(value);
}

/**
 * One CSV field, quoted when needed (RFC 4180). A field starting with `= + - @`, a tab or a CR
 * gets a leading `'`: a spreadsheet would run it as a formula (defends against CSV injection,
 * e.g. `=cmd|' /C calc'!A0`). Control characters other than newline and tab are shown escaped
 * (`\x1b`), so a CSV printed on a terminal cannot drive it.
 */
export function csvField(value: unknown): string {
  const raw = fieldText(value);
  const text = escapeControls(raw, '\n\t');
  const safe = /^[=+\-@\t\r]/.test(raw) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A header line and rows as CSV text, lines ended by CRLF (RFC 4180). */
export function formatCsv(headers: readonly string[], rows: ReadonlyArray<readonly unknown[]>): string {
  return [headers, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}
