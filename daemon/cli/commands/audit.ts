import type { OperationOutput } from '../../api/routes';
import type { AuditEntry } from '../../api/types';
import { auditToCsv } from '../../base/common/audit-csv';
import { ExitCode } from '../framework/errors';
import { formatTime } from '../format';
import { renderTable } from '../table';
import type { Action } from '../session';
import { listFilter } from './leases';

type Opts = {
  project?: string;
  environment?: string;
  allEnvironments?: boolean;
  since?: string;
  until?: string;
  event?: AuditEntry['event'];
  outcome?: AuditEntry['outcome'];
  lease?: string;
  limit?: number;
  before?: number;
  output?: 'table' | 'json' | 'csv';
  wide?: boolean;
};

/** Entries shown when --limit is not given. */
export const DEFAULT_AUDIT_LIMIT = 50;
/** The most the daemon answers in one page. */
const PAGE = 1000;

type Page = OperationOutput<'listAudit'>;

/** `bella audit list`: newest first, paged through the daemon's cursor up to --limit. */
export const list: Action = async (cli, { opts }) => {
  const o = opts as Opts;
  const filter = listFilter(cli, o);
  const limit = o.limit ?? DEFAULT_AUDIT_LIMIT;
  const entries: AuditEntry[] = [];
  let before = o.before;
  let last: Page | undefined;
  while (entries.length < limit) {
    last = await cli.call('listAudit', {
      project: filter.project,
      environment: filter.environment,
      since: o.since,
      until: o.until,
      event: o.event,
      outcome: o.outcome,
      lease: o.lease,
      limit: Math.min(PAGE, limit - entries.length),
      before,
    });
    entries.push(...last.entries);
    if (last.nextCursor === null) break;
    before = last.nextCursor;
  }
  const nextCursor = last?.nextCursor ?? null;
  const format = o.output ?? (cli.json ? 'json' : 'table');
  if (format === 'json') {
    cli.out(JSON.stringify({ entries, nextCursor }, null, 2));
    return;
  }
  if (format === 'csv') {
    cli.io.stdout(auditToCsv(entries));
    return;
  }
  if (entries.length === 0) {
    cli.out('no audit entries match');
    return;
  }
  const table = renderTable(
    [
      { header: 'SEQ', keep: true, drop: 1 },
      { header: 'TIME', keep: true },
      { header: 'EVENT', keep: true },
      { header: 'OUTCOME', keep: true, colour: (c) => (c === 'Denied' ? '31' : undefined) },
      { header: 'ENVIRONMENT' },
      { header: 'LEASE', keep: true, drop: 3 },
      { header: 'KEYS', min: 6, drop: 2 },
      { header: 'REASON' },
    ],
    entries.map((e) => [
      String(e.seq),
      formatTime(e.ts),
      e.event,
      e.outcome,
      e.project ? `${e.project}${e.environment ? `/${e.environment}` : ''}` : '-',
      e.leaseId ?? '-',
      e.keys?.join(',') || '-',
      e.reason ?? e.message ?? '',
    ]),
    { width: o.wide ? Infinity : cli.width, colour: cli.colour },
  );
  cli.out(table);
  if (nextCursor !== null) {
    const how = `--limit ${Math.max(limit * 2, 100)} or --before ${nextCursor}`;
    cli.note(`(${entries.length} newest shown; older entries remain: ${how})`);
  }
};

/** `bella audit verify`. */
export const verify: Action = async (cli) => {
  const res = await cli.call('verifyAudit', {});
  if (cli.json) cli.out(JSON.stringify(res, null, 2));
  else if (res.ok) cli.out(`audit log intact: ${res.entries} entries, hash chain verified`);
  if (!res.ok) {
    const b = res.firstBroken;
    cli.note(
      `error: the audit trail is broken at entry ${b?.seq ?? '?'} (${b?.file ?? '?'}, byte ${b?.offset ?? '?'}): ${cli.safe(b?.reason ?? 'unknown reason')}`,
    );
    throw new ExitCode(1);
  }
};
