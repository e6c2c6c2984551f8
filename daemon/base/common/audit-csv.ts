import { formatCsv } from './csv';

/** The columns of an audit export, in order: the same for the CLI and the desktop app. */
export const AUDIT_CSV_COLUMNS = [
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

/** An audit entry as far as the export needs it (structural, so this module imports no contract). */
export type AuditCsvEntry = { readonly [K in (typeof AUDIT_CSV_COLUMNS)[number]]?: unknown };

/** Audit entries as CSV with a header row (see {@link formatCsv} for quoting and neutralisation). */
export function auditToCsv(entries: readonly AuditCsvEntry[]): string {
  return formatCsv(
    AUDIT_CSV_COLUMNS,
    entries.map((e) => AUDIT_CSV_COLUMNS.map((c) => e[c])),
  );
}
