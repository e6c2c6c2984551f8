import type { AuditVerification, OperationOutput } from '../../api/routes';
import { AUDIT_EVENTS, OUTCOMES, type AuditEntry } from '../../api/types';
import { auditToCsv } from '../../base/common/audit-csv';
import { ExitCode } from '../framework/errors';
import { formatTime } from '../format';
import { renderTable } from '../table';
import type { Action } from '../session';
import { listFilter } from './leases';
import { allEnvironmentsOption, environmentOption, projectOption, wideOption } from './shared-options';
import { integerOption, timeOption } from '../framework/options';
import type { CommandSpec } from '../framework/spec';

type Opts = {
  project?: string;
  environment?: string;
  allEnvironments?: boolean;
  since?: string;
  until?: string;
  event?: AuditEntry['event'];
  outcome?: AuditEntry['outcome'];
  lease?: string;
  actor?: string;
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
      actor: o.actor,
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
      { header: 'ACTOR', drop: 2 },
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
      // A device's fingerprint is shortened here; --json and csv carry it whole.
      cli.safe(e.actor.replace(/ \(device (sha256:[0-9a-f]{8})[0-9a-f]{56}\)$/, ' ($1…)')),
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

/**
 * What `bella audit verify` prints on stdout: the verdict when the chain holds, then, on
 * PostgreSQL, one line per epoch (term of an active node) with the entries it wrote.
 */
export function describeVerification(res: AuditVerification): string[] {
  const verdict = res.ok ? [`audit log intact: ${res.entries} entries, hash chain verified`] : [];
  return [...verdict, ...(res.epochs ?? []).map((e) => `epoch ${e.epoch}  entries ${e.first}–${e.last}`)];
}

/** `bella audit verify`. */
export const verify: Action = async (cli) => {
  const res = await cli.call('verifyAudit', {});
  const b = res.firstBroken;
  if (!res.ok) {
    cli.note(
      `error: the audit trail is broken at entry ${b?.seq ?? '?'} (${b?.file ?? '?'}, byte ${b?.offset ?? '?'}): ${cli.safe(b?.reason ?? 'unknown reason')}`,
    );
  }
  if (cli.json) cli.out(JSON.stringify(res, null, 2));
  else for (const line of describeVerification(res)) cli.out(line);
  if (!res.ok) throw new ExitCode(1);
};

/** The `bella audit` command, as the parser, help, completion and docs/cli.md read it. */
export const auditCommand: CommandSpec = {
  name: 'audit',
  summary: 'read and verify the audit trail',
  subcommands: [
    {
      name: 'list',
      summary: 'list audit entries, newest first',
      details: 'Shows the newest 50 unless --limit; says when older entries remain (page on with --before SEQ).',
      options: [
        projectOption('only this project (default: from .bella)'),
        environmentOption('only this environment (default: from .bella)'),
        allEnvironmentsOption,
        {
          long: 'since',
          value: 'time',
          description: 'only entries since an ISO time or a duration ago (e.g. 2h)',
          parse: timeOption('--since'),
        },
        {
          long: 'until',
          value: 'time',
          description: 'only entries before an ISO time or a duration ago',
          parse: timeOption('--until'),
        },
        { long: 'event', value: 'event', description: 'only this event', choices: AUDIT_EVENTS },
        { long: 'outcome', value: 'outcome', description: 'only Success or Denied', choices: OUTCOMES },
        { long: 'lease', value: 'id', description: 'only entries about this lease', complete: 'leases' },
        {
          long: 'actor',
          value: 'who',
          description: "only entries by this actor: owner, a teammate's name (any of her devices), token, ci:NAME",
        },
        {
          long: 'limit',
          value: 'n',
          description: 'at most this many, newest first (default 50)',
          parse: integerOption('--limit', 1),
        },
        {
          long: 'before',
          value: 'seq',
          description: 'only entries older than this sequence number (next page)',
          parse: integerOption('--before', 1),
        },
        {
          long: 'output',
          short: 'o',
          value: 'format',
          description: 'output format',
          choices: ['table', 'json', 'csv'],
        },
        wideOption,
      ],
      action: list,
    },
    {
      name: 'verify',
      summary: 'check the hash chain of the audit log; exit 1 naming the first broken entry',
      details: "On PostgreSQL it also names each epoch (an active node's term) and the entries it wrote.",
      action: verify,
    },
  ],
};
