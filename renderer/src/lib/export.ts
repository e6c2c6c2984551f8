import type { AuditEntry } from '../../../daemon/api/types';

const COLUMNS = [
  'seq',
  'ts',
  'event',
  'outcome',
  'actor',
  'project',
  'environment',
  'leaseId',
  'keys',
  'reason',
  'message',
  'source',
  'count',
  'hash',
] as const;

function cell(v: unknown): string {
  const s = Array.isArray(v) ? v.join(' ') : v === undefined || v === null ? '' : String(v);
  // A leading = + - @ would run as a formula in a spreadsheet (defends against CSV injection).
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Audit entries as RFC 4180 CSV with a header row. */
export function auditToCsv(entries: AuditEntry[]): string {
  const rows = entries.map((e) => COLUMNS.map((c) => cell(e[c])).join(','));
  return [COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}

/** Saves text as a file through the browser's download path. */
export function downloadText(filename: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
