import { handoverLines } from '../../api/handover';
import type { IssuedLease } from '../../api/routes';
import { LEASE_STATUSES, type Lease, type LeaseStatus } from '../../api/types';
import { looksLikeToken, tokenLeaseId } from '../../base/common/token-format';
import { UsageError } from '../framework/errors';
import { plural } from '../../base/common/plural';
import { EXPIRE_ALL_CHANGES, EXPIRE_ALL_UNCHANGED, expireAllDone } from '../../base/common/expire-all';
import { formatPairs, formatRelative, formatTime, formatTtl, formatWhen } from '../format';
import { confirmOnTerminal } from '../prompt';
import type { Action, CliSession } from '../session';
import { renderTable } from '../table';
import { checkTokenShape } from '../token-plane';
import {
  allEnvironmentsOption,
  dbOption,
  environmentOption,
  projectOption,
  scopeOption,
  ttlOption,
  wideOption,
} from './shared-options';
import { integerOption } from '../framework/options';
import type { CommandSpec } from '../framework/spec';

type Opts = {
  project?: string;
  environment?: string;
  allEnvironments?: boolean;
  scope?: string[];
  ttl?: number;
  reason?: string;
  all?: boolean;
  status?: LeaseStatus;
  limit?: number;
  wide?: boolean;
  yes?: boolean;
  rotate?: boolean;
  db?: string;
  force?: boolean;
};

/** The message for a ttl shortened by a lease policy. */
export function cappedMessage(lease: Lease, capped: IssuedLease['capped']): string | undefined {
  if (!capped) return undefined;
  return `ttl ${formatTtl(capped.requestedSeconds)} capped to ${formatTtl(capped.policySeconds)} by the lease policy of ${lease.project}/${lease.environment}`;
}

/**
 * Prints an issued lease: the token alone on stdout (so `$(bella issue …)` captures just it),
 * everything else on stderr; with --json the whole answer on stdout.
 */
export function printIssued(cli: CliSession, issued: IssuedLease): void {
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
  if (lease.database)
    lines.push(
      `${lease.database.key}: login role ${lease.database.user} in ${lease.database.name} (${lease.database.role}), dropped when the lease ends`,
    );
  const capped = cappedMessage(lease, issued.capped);
  if (capped) lines.push(capped);
  lines.push('this token is shown once: store it now, it cannot be shown again');
  // Everything a holder on another machine needs, ready to paste (stderr: $(…) still gets the token only).
  const handover = handoverLines(issued);
  if (handover) lines.push("on the holder's machine:", ...handover.map((line) => `  ${line}`));
  if (handover && issued.serverNote) lines.push(issued.serverNote);
  cli.note(lines.join('\n'));
}

/** A lease id from ID, which may also be the lease's bax- token. */
export function leaseIdOf(text: string): string {
  if (!looksLikeToken(text)) return text;
  checkTokenShape(text);
  return tokenLeaseId(text) as string;
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
    ...(lease.database
      ? ([
          [
            'database',
            `${lease.database.key}: login role ${lease.database.user} in ${lease.database.name} (${lease.database.role})`,
          ],
        ] as Array<[string, string]>)
      : []),
    ...(lease.endedAt
      ? ([['ended', `${formatWhen(lease.endedAt)}: ${lease.endReason ?? ''}`]] as Array<[string, string]>)
      : []),
  ]);
}

/** The EXPIRES cell: the relative time first, so a narrow table keeps what matters. */
function expiryCell(lease: Lease): string {
  if (lease.status !== 'active') return `${lease.status} ${formatRelative(lease.endedAt ?? lease.expiresAt)}`;
  return `${formatRelative(lease.expiresAt)} · ${formatTime(lease.expiresAt)}`;
}

const STATUS_COLOUR: Record<string, string> = { active: '32', expired: '33', revoked: '31' };

/** Issues a lease on -p/-e (or .bella) and prints it: `leases issue` and `issue` alike. */
export async function issueAndPrint(cli: CliSession, o: Opts & { reason: string }): Promise<void> {
  if (!o.scope?.length && !o.db) throw new UsageError('--scope <keys> is required (or --db DB:ROLE)');
  const ref = cli.environmentRef(o);
  const issued = await cli.call('issueLease', {
    project: ref.project,
    environment: ref.environment,
    scope: o.scope ?? [],
    ttlSeconds: o.ttl,
    reason: o.reason,
    db: o.db,
  });
  printIssued(cli, issued);
}

/** `bella leases issue`. */
export const issue: Action = (cli, { opts }) => issueAndPrint(cli, opts as Opts & { reason: string });

/** The project/environment a listing is filtered by: -p/-e, else .bella unless --all-environments. */
export function listFilter(cli: CliSession, o: Opts): { project?: string; environment?: string; from?: string } {
  if (o.allEnvironments) {
    if (o.project || o.environment) throw new UsageError('use either --all-environments or -p/-e, not both');
    return {};
  }
  const ref = cli.optionalEnvironmentRef(o);
  if (ref.environment && !ref.project) throw new UsageError('--environment needs --project');
  if (ref.from && !cli.json) {
    cli.note(`(${ref.project}/${ref.environment} from ${ref.from}; --all-environments for everything)`);
  }
  return ref;
}

/** `bella leases list`. */
export const list: Action = async (cli, { opts }) => {
  const o = opts as Opts;
  if (o.all && o.status) throw new UsageError('use either --all or --status, not both');
  const filter = listFilter(cli, o);
  const res = await cli.call('listLeases', {
    project: filter.project,
    environment: filter.environment,
    status: o.status,
    all: o.all ? true : undefined,
    limit: o.limit ?? 50,
  });
  cli.print(res, () => {
    if (res.leases.length === 0) {
      const where = filter.project ? ` in ${filter.project}${filter.environment ? `/${filter.environment}` : ''}` : '';
      return `no ${o.all ? '' : `${o.status ?? 'active'} `}leases${where}`;
    }
    const table = renderTable(
      [
        { header: 'ID', keep: true },
        { header: 'ENVIRONMENT' },
        { header: 'SCOPE' },
        { header: 'STATUS', keep: true, colour: (c) => STATUS_COLOUR[c] },
        { header: 'EXPIRES', min: 12 },
        { header: 'REASON' },
      ],
      res.leases.map((l) => [
        l.id,
        `${l.project}/${l.environment}`,
        l.scope.join(','),
        l.status,
        expiryCell(l),
        l.reason,
      ]),
      { width: o.wide ? Infinity : cli.width, colour: cli.colour },
    );
    const more = res.total - res.leases.length;
    return more > 0 ? `${table}\n(${res.leases.length} of ${res.total} shown: --limit N for more)` : table;
  });
};

/** `bella leases show ID`. */
export const show: Action = async (cli, { args }) => {
  const res = await cli.call('getLease', { id: leaseIdOf(args.ID as string) });
  cli.print(res, () => describeLease(res.lease));
};

/** `bella leases renew ID`. */
export const renew: Action = async (cli, { args, opts }) => {
  const res = await cli.call('renewLease', { id: leaseIdOf(args.ID as string), ttlSeconds: (opts as Opts).ttl });
  cli.print(res, () => {
    const lines = [`renewed lease ${res.lease.id}: expires ${formatWhen(res.lease.expiresAt)}`];
    const capped = cappedMessage(res.lease, res.capped);
    if (capped) lines.push(capped);
    if (res.credentialWarning) lines.push(`warning: ${res.credentialWarning}`);
    return lines.join('\n');
  });
};

/** "already ended" in words: how and when. */
export function endedMessage(lease: {
  id: string;
  status: string;
  expiresAt: string;
  endedAt?: string | null;
}): string {
  const when = lease.status === 'expired' ? (lease.endedAt ?? lease.expiresAt) : lease.endedAt;
  const at = when ? ` ${formatTime(when)}, ${formatRelative(when)}` : '';
  return `lease ${lease.id} had already ended (${lease.status}${at}): nothing to revoke`;
}

/** `bella leases revoke ID|TOKEN`: revoking a lease that already ended is not an error. */
export const revoke: Action = async (cli, { args, opts }) => {
  const o = opts as Opts;
  const res = await cli.call('revokeLease', { id: leaseIdOf(args.ID as string), reason: o.reason, force: o.force });
  cli.print(res, () => {
    const lines = [
      res.alreadyEnded
        ? endedMessage(res.lease)
        : `revoked lease ${res.lease.id} (${res.lease.project}/${res.lease.environment}): its token is refused from now on`,
    ];
    const c = res.credential;
    if (c?.dropped) lines.push(`login role ${c.user} dropped (its sessions ended)`);
    else if (c?.abandoned)
      lines.push(
        `gave up dropping login role ${c.user} (--force, audited): drop it by hand; its VALID UNTIL still refuses logins`,
      );
    else if (c)
      lines.push(
        `login role ${c.user} not dropped yet${c.error ? ` (${c.error})` : ''}: bella keeps retrying (bella databases list); --force gives up`,
      );
    return lines.join('\n');
  });
};

/** `bella leases expire-all`. */
export const expireAll: Action = async (cli, { opts }) => {
  const o = opts as Opts;
  const ref = cli.environmentRef(o);
  const name = `${ref.project}/${ref.environment}`;
  // Guards against an accidental run on a terminal; scripts (no TTY) proceed as documented.
  await confirmOnTerminal(cli.io, o.yes, ref.environment, async () => {
    const { total } = await cli.call('listLeases', { project: ref.project, environment: ref.environment, limit: 1 });
    const leases = total === 0 ? 'no active leases (there are none)' : `the ${plural(total, 'active lease')}`;
    const rotate = o.rotate
      ? ['With --rotate: every secret linked to a database gets a new password there (bella secrets rotate)']
      : [];
    return [`this revokes ${leases} of ${name}:`, ...EXPIRE_ALL_CHANGES, ...rotate, EXPIRE_ALL_UNCHANGED].join(
      '\n  - ',
    );
  });
  const res = await cli.call('expireAll', {
    project: ref.project,
    environment: ref.environment,
    reason: o.reason,
    rotate: o.rotate === true,
  });
  const rotated = res.rotated ?? [];
  const failed = res.rotationFailed ?? [];
  // --json says it too: what changed are bella's own credentials and, with --rotate, the database passwords.
  cli.print({ ...res, secretValuesChanged: rotated.length > 0, note: EXPIRE_ALL_UNCHANGED }, () =>
    [
      expireAllDone(res, name, formatTime(res.rotatedAt)),
      ...(o.rotate && rotated.length + failed.length === 0
        ? [
            '--rotate: no secret of this environment is linked to a database (bella secrets rotate KEY --db DB --user USER)',
          ]
        : []),
      ...rotated.map((r) => `rotated ${r.key}: new password for ${r.user} in ${r.database}`),
      ...failed.map((r) => `NOT rotated ${r.key} (${r.user} in ${r.database}): ${cli.safe(r.error)}`),
    ].join('\n'),
  );
};

/** The `bella leases` command, as the parser, help, completion and docs/cli.md read it. */
export const leasesCommand: CommandSpec = {
  name: 'leases',
  summary: 'issue, inspect, renew and revoke leases',
  subcommands: [
    {
      name: 'issue',
      summary: 'issue a lease and print its bax- token (shown once)',
      options: [
        projectOption(),
        environmentOption(),
        scopeOption('comma-separated keys or *-globs, e.g. "DATABASE_URL,REDIS_URL" (required unless --db)'),
        ttlOption('how long the token lives, e.g. 4h (default: the lease policy ttl, else 1h)'),
        dbOption('a database login role of its own (DATABASE:ROLE), read as <DATABASE>_URL, dropped when it ends'),
        {
          long: 'reason',
          value: 'text',
          description: 'why this access is needed (kept in the audit trail)',
          required: true,
        },
      ],
      examples: [
        'bella leases issue --project my-api --environment production --scope "DATABASE_URL,REDIS_URL" --ttl 4h --reason "Contractor onboarding - Jane Doe"',
      ],
      action: issue,
    },
    {
      name: 'list',
      summary: 'list leases, newest first (active ones unless --all or --status)',
      options: [
        projectOption('only this project (default: from .bella)'),
        environmentOption('only this environment (default: from .bella)'),
        allEnvironmentsOption,
        { long: 'all', description: 'include expired and revoked leases' },
        { long: 'status', value: 'status', description: 'only leases with this status', choices: LEASE_STATUSES },
        {
          long: 'limit',
          value: 'n',
          description: 'show at most this many (default 50)',
          parse: integerOption('--limit', 1, 10_000),
        },
        wideOption,
      ],
      examples: ['bella leases list --project my-api --environment production'],
      action: list,
    },
    {
      name: 'show',
      summary: 'show one lease',
      args: [{ name: 'ID', description: 'the lease id (or its bax- token)', field: 'id', complete: 'leases' }],
      action: show,
    },
    {
      name: 'renew',
      summary: 'extend an active lease to now + ttl (capped by the lease policy)',
      args: [{ name: 'ID', description: 'the lease id (or its bax- token)', field: 'id', complete: 'leases' }],
      options: [ttlOption('new lifetime from now (default: the policy ttl)')],
      action: renew,
    },
    {
      name: 'revoke',
      summary: 'revoke a lease at once: its token is refused from the next request',
      details: 'Revoking a lease that already ended is not an error: bella says so and exits 0.',
      args: [{ name: 'ID', description: 'the lease id, or the bax- token itself', field: 'id', complete: 'leases' }],
      options: [
        { long: 'reason', value: 'text', description: 'why (kept in the audit trail)' },
        {
          long: 'force',
          description: 'if its database login role cannot be dropped now, give up on it (audited)',
        },
      ],
      examples: ['bella leases revoke <lease-id>'],
      action: revoke,
    },
    {
      name: 'expire-all',
      summary: "revoke every active lease of an environment and rotate bella's credentials for it",
      details:
        "bella's data key of the environment is replaced (its secrets re-encrypted at rest) and its token epoch " +
        'bumped (every token minted before is refused). The secret values themselves do not change: rotate ' +
        'them at their source, or with --rotate for database passwords linked by `bella secrets rotate`. ' +
        'On a terminal it says how many leases it ends and asks for the environment ' +
        'slug unless --yes.',
      options: [
        projectOption(),
        environmentOption(),
        { long: 'reason', value: 'text', description: 'why (kept in the audit trail)' },
        {
          long: 'rotate',
          description:
            'also rotate every secret linked to a database (bella secrets rotate): a failure is reported, the rest goes on',
        },
        { long: 'yes', description: 'do not ask for confirmation on a terminal' },
      ],
      examples: ['bella leases expire-all --project my-api --environment production'],
      action: expireAll,
    },
  ],
};
