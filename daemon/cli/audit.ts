import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseDuration } from '../api/durations';
import { AUDIT_EVENTS, type AuditEntry } from '../api/types';
import { ExitCode, type Cli } from './context';
import { formatCsv, formatTable, formatTime } from './format';

/** `--since`: an ISO 8601 time, or a duration meaning that long ago (`2h`, `7d`). Returns ISO. */
export function sinceOption(now: () => number = Date.now): (value: string) => string {
  return (value) => {
    const seconds = parseDuration(value);
    if (seconds !== undefined) return new Date(now() - seconds * 1000).toISOString();
    if (/^\d{4}-\d{2}-\d{2}/.test(value.trim())) {
      const t = Date.parse(value.trim());
      if (!Number.isNaN(t)) return new Date(t).toISOString();
    }
    throw new InvalidArgumentError('--since takes an ISO time (2026-11-28T09:00:00Z) or a duration ago (2h, 7d).');
  };
}

const CSV_HEADERS = [
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
];

function csvRow(e: AuditEntry): unknown[] {
  return [e.seq, e.ts, e.event, e.outcome, e.actor, e.project, e.environment, e.leaseId, e.keys, e.reason, e.message];
}

/** `bella audit list|verify`. */
export function registerAudit(program: Command, cli: Cli): void {
  const audit = program.command('audit').description('read and verify the audit trail');

  audit
    .command('list')
    .description('list audit entries, oldest first')
    .option('-p, --project <slug>', 'only this project')
    .option('-e, --environment <slug>', 'only this environment')
    .option('--since <time>', 'only entries since an ISO time or a duration ago (e.g. 2h)', sinceOption())
    .addOption(new Option('--event <event>', 'only this event').choices([...AUDIT_EVENTS]))
    .addOption(
      new Option('--outcome <outcome>', 'only Success or Denied').choices(['Success', 'Denied']).argParser((v) => {
        const normal = v.toLowerCase() === 'success' ? 'Success' : v.toLowerCase() === 'denied' ? 'Denied' : undefined;
        if (!normal) throw new InvalidArgumentError('--outcome is Success or Denied.');
        return normal;
      }),
    )
    .option('--lease <id>', 'only entries about this lease')
    .option('--limit <n>', 'at most this many (the newest)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1)
        throw new InvalidArgumentError('--limit must be a whole number of at least 1.');
      return n;
    })
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'csv']))
    .action(
      async (opts: {
        project?: string;
        environment?: string;
        since?: string;
        event?: AuditEntry['event'];
        outcome?: AuditEntry['outcome'];
        lease?: string;
        limit?: number;
        output?: string;
      }) => {
        const res = await cli.call('listAudit', {
          project: opts.project,
          environment: opts.environment,
          since: opts.since,
          event: opts.event,
          outcome: opts.outcome,
          lease: opts.lease,
          limit: opts.limit,
        });
        const format = opts.output ?? (cli.json ? 'json' : 'table');
        if (format === 'json') cli.out(JSON.stringify(res, null, 2));
        else if (format === 'csv') cli.io.stdout(formatCsv(CSV_HEADERS, res.entries.map(csvRow)));
        else if (res.entries.length === 0) cli.out('no audit entries match');
        else
          cli.out(
            formatTable(
              ['TIME', 'EVENT', 'OUTCOME', 'ACTOR', 'ENVIRONMENT', 'LEASE', 'KEYS', 'REASON'],
              res.entries.map((e) => [
                formatTime(e.ts),
                e.event,
                e.outcome,
                e.actor,
                e.project ? `${e.project}${e.environment ? `/${e.environment}` : ''}` : '-',
                e.leaseId ?? '-',
                e.keys?.join(',') || '-',
                e.reason ?? e.message ?? '',
              ]),
            ),
          );
      },
    );

  audit
    .command('verify')
    .description('check the hash chain of the audit log; exit 1 naming the first broken line')
    .action(async () => {
      const res = await cli.call('verifyAudit', {});
      if (cli.json) cli.out(JSON.stringify(res, null, 2));
      else if (res.ok) cli.out(`audit log intact: ${res.entries} entries, hash chain verified`);
      if (!res.ok) {
        const b = res.firstBroken;
        cli.note(
          `error: the audit trail is broken at entry ${b?.seq ?? '?'} (${b?.file ?? '?'}, byte ${b?.offset ?? '?'}): ${b?.reason ?? 'unknown reason'}`,
        );
        throw new ExitCode(1);
      }
    });
}
