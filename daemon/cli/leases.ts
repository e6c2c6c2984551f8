import { InvalidArgumentError, Option, type Command } from 'commander';
import { BellaError } from '../api/errors';
import type { IssuedLease } from '../api/operations';
import type { Lease, LeaseStatus } from '../api/schemas';
import { ask, UsageError, type Cli } from './context';
import { formatPairs, formatRelative, formatTable, formatTime, formatTtl, formatWhen } from './format';
import { durationOption, listOption } from './options';

/** The message for a ttl shortened by a lease policy. */
export function cappedMessage(lease: Lease, capped: IssuedLease['capped']): string | undefined {
  if (!capped) return undefined;
  return `ttl ${formatTtl(capped.requestedSeconds)} capped to ${formatTtl(capped.policySeconds)} by the lease policy of ${lease.project}/${lease.environment}`;
}

/**
 * Prints an issued lease: the token alone on stdout (so `$(bella issue …)` captures just it),
 * everything else on stderr; with --json the whole answer on stdout.
 */
export function printIssued(cli: Cli, issued: IssuedLease): void {
  if (cli.json) {
    cli.out(JSON.stringify(issued, null, 2));
    return;
  }
  const { lease } = issued;
  cli.out(issued.token);
  const lines = [
    `lease ${lease.id} for ${lease.project}/${lease.environment}, scope ${lease.scope.join(',')}`,
    `expires ${formatWhen(lease.expiresAt)}`,
  ];
  const capped = cappedMessage(lease, issued.capped);
  if (capped) lines.push(capped);
  lines.push('this token is shown once: store it now, it cannot be shown again');
  cli.note(lines.join('\n'));
}

function describeLease(lease: Lease): string {
  return formatPairs([
    ['id', lease.id],
    ['project', lease.project],
    ['environment', lease.environment],
    ['scope', lease.scope.join(', ')],
    ['status', lease.status],
    ['reason', lease.reason],
    ['issued', formatWhen(lease.issuedAt)],
    ['expires', formatWhen(lease.expiresAt)],
    ['renewals', String(lease.renewals)],
    ['last used', lease.lastUsedAt ? formatWhen(lease.lastUsedAt) : 'never'],
    ...(lease.endedAt
      ? ([['ended', `${formatWhen(lease.endedAt)}: ${lease.endReason ?? ''}`]] as [string, string][])
      : []),
  ]);
}

function expiryCell(lease: Lease): string {
  if (lease.status !== 'active') return `${lease.status} ${formatRelative(lease.endedAt ?? lease.expiresAt)}`;
  return `${formatTime(lease.expiresAt)} (${formatRelative(lease.expiresAt)})`;
}

/** `bella leases issue|list|show|renew|revoke|expire-all`. */
export function registerLeases(program: Command, cli: Cli): void {
  const leases = program.command('leases').description('issue, inspect, renew and revoke leases');

  leases
    .command('issue')
    .description('issue a lease and print its bax- token (shown once)')
    .requiredOption('-p, --project <slug>', 'the project')
    .requiredOption('-e, --environment <slug>', 'the environment')
    .requiredOption(
      '--scope <keys>',
      'comma-separated keys or *-globs, e.g. "DATABASE_URL,REDIS_URL"',
      listOption('--scope'),
    )
    .option(
      '--ttl <duration>',
      'how long the token lives, e.g. 4h (default: the lease policy ttl)',
      durationOption('--ttl'),
    )
    .requiredOption('--reason <text>', 'why this access is needed (kept in the audit trail)')
    .action(async (opts: { project: string; environment: string; scope: string[]; ttl?: number; reason: string }) => {
      const issued = await cli.call('issueLease', {
        project: opts.project,
        environment: opts.environment,
        scope: opts.scope,
        ttlSeconds: opts.ttl,
        reason: opts.reason,
      });
      printIssued(cli, issued);
    });

  leases
    .command('list')
    .description('list leases, newest first (active ones unless --all or --status)')
    .option('-p, --project <slug>', 'only this project')
    .option('-e, --environment <slug>', 'only this environment')
    .option('--all', 'include expired and revoked leases')
    .addOption(
      new Option('--status <status>', 'only leases with this status').choices(['active', 'expired', 'revoked']),
    )
    .option('--limit <n>', 'show at most this many', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1)
        throw new InvalidArgumentError('--limit must be a whole number of at least 1.');
      return n;
    })
    .action(
      async (opts: { project?: string; environment?: string; all?: boolean; status?: LeaseStatus; limit?: number }) => {
        if (opts.all && opts.status) throw new UsageError('use either --all or --status, not both');
        if (opts.environment && !opts.project) throw new UsageError('--environment needs --project');
        const res = await cli.call('listLeases', {
          project: opts.project,
          environment: opts.environment,
          status: opts.status,
          all: opts.all ? true : undefined,
          limit: opts.limit,
        });
        cli.print(res, () => {
          if (res.leases.length === 0) {
            return `no ${opts.all ? '' : `${opts.status ?? 'active'} `}leases${opts.project ? ` in ${opts.project}${opts.environment ? `/${opts.environment}` : ''}` : ''}`;
          }
          const table = formatTable(
            ['ID', 'ENVIRONMENT', 'SCOPE', 'STATUS', 'EXPIRES', 'REASON'],
            res.leases.map((l) => [
              l.id,
              `${l.project}/${l.environment}`,
              l.scope.join(','),
              l.status,
              expiryCell(l),
              l.reason,
            ]),
          );
          const more = res.total > res.leases.length ? `\n(${res.leases.length} of ${res.total} shown)` : '';
          return table + more;
        });
      },
    );

  leases
    .command('show')
    .description('show one lease')
    .argument('<id>', 'the lease id')
    .action(async (id: string) => {
      const res = await cli.call('getLease', { id });
      cli.print(res, () => describeLease(res.lease));
    });

  leases
    .command('renew')
    .description('extend an active lease to now + ttl (capped by the lease policy)')
    .argument('<id>', 'the lease id')
    .option('--ttl <duration>', 'new lifetime from now (default: the policy ttl)', durationOption('--ttl'))
    .action(async (id: string, opts: { ttl?: number }) => {
      const res = await cli.call('renewLease', { id, ttlSeconds: opts.ttl });
      cli.print(res, () => {
        const lines = [`renewed lease ${res.lease.id}: expires ${formatWhen(res.lease.expiresAt)}`];
        const capped = cappedMessage(res.lease, res.capped);
        if (capped) lines.push(capped);
        return lines.join('\n');
      });
    });

  leases
    .command('revoke')
    .description('revoke a lease at once: its token is refused from the next request')
    .argument('<id>', 'the lease id')
    .option('--reason <text>', 'why (kept in the audit trail)')
    .action(async (id: string, opts: { reason?: string }) => {
      const res = await cli.call('revokeLease', { id, reason: opts.reason });
      cli.print(res, () => `revoked lease ${res.lease.id} (${res.lease.project}/${res.lease.environment})`);
    });

  leases
    .command('expire-all')
    .description('revoke every active lease of an environment and rotate its credentials')
    .requiredOption('-p, --project <slug>', 'the project')
    .requiredOption('-e, --environment <slug>', 'the environment')
    .option('--yes', 'do not ask for confirmation on a terminal')
    .action(async (opts: { project: string; environment: string; yes?: boolean }) => {
      const ref = `${opts.project}/${opts.environment}`;
      // Guards against an accidental run on a terminal; scripts (no TTY) proceed as documented.
      if (!opts.yes && cli.io.stdin.isTTY) {
        const answer = await ask(
          cli.io,
          `this revokes every active lease of ${ref} and rotates its credentials.\ntype "${opts.environment}" to confirm: `,
        );
        if (answer.trim() !== opts.environment) {
          throw new BellaError(
            'invalid_argument',
            `confirmation did not match "${opts.environment}": nothing was changed`,
          );
        }
      }
      const res = await cli.call('expireAll', { project: opts.project, environment: opts.environment });
      cli.print(
        res,
        () =>
          `revoked ${res.revoked} active lease${res.revoked === 1 ? '' : 's'} of ${ref} and rotated its credentials (${res.reencryptedSecrets} secrets re-encrypted); tokens issued before ${formatTime(res.rotatedAt)} never work again`,
      );
    });
}
