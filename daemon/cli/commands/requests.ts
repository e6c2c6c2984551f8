import { BellaError } from '../../api/errors';
import { REQUEST_STATUSES, type AccessRequest } from '../../api/requests';
import { formatDuration } from '../../api/durations';
import { formatWhen } from '../format';
import { UsageError } from '../framework/errors';
import { durationOption } from '../framework/options';
import type { CommandSpec } from '../framework/spec';
import type { Action, CliSession } from '../session';
import { renderTable } from '../table';
import { printIssued } from './leases';
import { dbOption, environmentOption, projectOption, scopeOption, ttlOption, wideOption } from './shared-options';

/** How often a waiting `bella request` asks whether it was decided. */
const POLL_MS = 1000;

type RequestOpts = {
  project?: string;
  environment?: string;
  scope?: string[];
  db?: string;
  ttl?: number;
  reason: string;
  window?: number;
  noWait?: boolean;
  breakGlass?: boolean;
};

/**
 * `bella request`: asks for a lease and waits for the decision (at most its window), then prints
 * the token on stdout as `bella issue` does; `--no-wait` prints the request id instead.
 */
export const request: Action = async (cli, { opts }) => {
  const o = opts as RequestOpts;
  if (!o.scope?.length && !o.db) throw new UsageError('--scope <keys> is required (or --db DB:ROLE)');
  const ref = cli.environmentRef(o);
  const res = await cli.call('createAccessRequest', {
    project: ref.project,
    environment: ref.environment,
    scope: o.scope ?? [],
    db: o.db,
    ttlSeconds: o.ttl,
    reason: o.reason,
    windowSeconds: o.window,
    breakGlass: o.breakGlass === true ? true : undefined,
  });
  if (res.issued) {
    cli.note(`break-glass: granted at once (request ${res.request.id}); every approver has been told`);
    printIssued(cli, res.issued);
    return;
  }
  const id = res.request.id;
  if (o.noWait) {
    cli.print(res, () => id);
    if (!cli.json)
      cli.note(
        `request ${id} waits for an approver until ${formatWhen(res.request.windowEndsAt)}; then: bella requests token ${id}`,
      );
    return;
  }
  cli.note(
    `request ${id} sent: waiting for an approver (until ${formatWhen(res.request.windowEndsAt)}; Ctrl-C stops waiting, bella requests token ${id} fetches it later)`,
  );
  await waitAndPrint(cli, res.request);
};

/** Polls until the request is decided or its window has passed, then prints the token or why not. */
async function waitAndPrint(cli: CliSession, first: AccessRequest): Promise<void> {
  let current = first;
  // Bounded: the window's end (the server's clock), plus a few polls for the last answer.
  const deadline = Date.now() + Math.max(0, Date.parse(first.windowEndsAt) - Date.parse(first.createdAt)) + 5 * POLL_MS;
  while (current.status === 'pending' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    current = (await cli.call('getAccessRequest', { id: first.id })).request;
  }
  finish(current);
  printIssued(cli, await cli.call('fetchRequestToken', { id: current.id }));
}

/** Throws what became of a request that gave no token: denied (with why), expired, still pending. */
function finish(r: AccessRequest): void {
  if (r.status === 'approved') return;
  if (r.status === 'denied') {
    throw new BellaError(
      'permission_denied',
      `request ${r.id} was denied by ${who(r.decidedBy)}: ${r.decision ?? 'no reason given'}`,
    );
  }
  throw new BellaError(
    'conflict',
    `request ${r.id} expired: no approver answered by ${formatWhen(r.windowEndsAt)}; ask again (bella request)`,
  );
}

/** `alice` of `alice (device sha256:…)`. */
function who(actor: string | null): string {
  return (actor ?? 'someone').replace(/ \(device .*\)$/, '');
}

/** `bella requests list`. */
export const list: Action = async (cli, { opts }) => {
  const o = opts as { status?: (typeof REQUEST_STATUSES)[number]; unreviewed?: boolean; wide?: boolean };
  const res = await cli.call('listAccessRequests', { status: o.status, unreviewed: o.unreviewed ? true : undefined });
  cli.print(res, () => {
    if (res.requests.length === 0) return `no ${o.status ? `${o.status} ` : ''}access requests`;
    return renderTable(
      [
        { header: 'ID', keep: true },
        { header: 'WHO', keep: true },
        { header: 'ENVIRONMENT' },
        { header: 'SCOPE' },
        { header: 'TTL' },
        { header: 'STATUS', keep: true },
        { header: 'REASON' },
      ],
      res.requests.map((r) => [
        r.id,
        cli.safe(r.requester),
        `${r.project}/${r.environment}`,
        [...r.scope, ...(r.db ? [`db ${r.db}`] : [])].join(','),
        r.ttlSeconds ? formatDuration(r.ttlSeconds) : 'policy',
        statusCell(r),
        cli.safe(r.reason),
      ]),
      { width: o.wide ? Infinity : cli.width, colour: cli.colour },
    );
  });
};

function statusCell(r: AccessRequest): string {
  if (r.breakGlass) return r.reviewedAt ? 'break-glass (reviewed)' : 'break-glass (unreviewed)';
  if (r.status === 'denied') return `denied: ${r.decision ?? ''}`;
  return r.status;
}

/** `bella requests approve ID [--ttl shorter] [--reason …]`. */
export const approve: Action = async (cli, { args, opts }) => {
  const o = opts as { ttl?: number; reason?: string };
  const res = await cli.call('approveAccessRequest', { id: args.ID as string, ttlSeconds: o.ttl, reason: o.reason });
  cli.print(
    res,
    () =>
      `approved ${res.request.id} of ${cli.safe(res.request.requester)}: lease ${res.lease.id} until ${formatWhen(res.lease.expiresAt)}; her token waits for her (once)`,
  );
};

/** `bella requests deny ID --reason …`. */
export const deny: Action = async (cli, { args, opts }) => {
  const o = opts as { reason: string };
  const res = await cli.call('denyAccessRequest', { id: args.ID as string, reason: o.reason });
  cli.print(res, () => `denied ${res.request.id} of ${cli.safe(res.request.requester)}: ${cli.safe(o.reason)}`);
};

/** `bella requests token ID`: the approved request's token, once. */
export const token: Action = async (cli, { args }) => {
  printIssued(cli, await cli.call('fetchRequestToken', { id: args.ID as string }));
};

/** `bella requests review ID`: the owner acknowledges a break-glass grant. */
export const review: Action = async (cli, { args, opts }) => {
  const o = opts as { note?: string };
  const res = await cli.call('reviewAccessRequest', { id: args.ID as string, note: o.note });
  cli.print(res, () => `reviewed break-glass ${res.request.id} of ${cli.safe(res.request.requester)}`);
};

const idArg = { name: 'ID', description: 'the request id (req_…)', field: 'id' };

export const requestCommand: CommandSpec = {
  name: 'request',
  summary: 'ask for a lease; waits for an approver, then prints only the token (as bella issue)',
  details:
    'For a teammate whose grant is request (or issue). The lease’s clock starts at approval. ' +
    'Denied: the reason, exit 1. Unanswered within --window: exit 1. --break-glass grants at once where the policy allows it.',
  options: [
    scopeOption('comma-separated keys or *-globs, e.g. STRIPE_KEY,PAYMENT_* (required unless --db)'),
    dbOption('a database login role of its own (DATABASE:ROLE), read as <DATABASE>_URL, dropped when it ends'),
    ttlOption('the lease’s lifetime, e.g. 1h (default: the policy’s)'),
    { long: 'reason', value: 'text', description: 'why (shown to approvers, kept in the audit trail)', required: true },
    {
      long: 'window',
      value: 'duration',
      description: 'how long approvers have to answer (default 1h, at most 7d)',
      parse: durationOption('--window'),
      field: 'windowSeconds',
    },
    { long: 'no-wait', description: 'print the request id and return (bella requests token ID later)' },
    {
      long: 'break-glass',
      description: 'take the lease now, without approval, where the policy allows it (audited, announced)',
    },
    projectOption(),
    environmentOption(),
  ],
  examples: [
    'TOKEN=$(bella request -p my-api -e production --scope DATABASE_URL --ttl 1h --reason "INC-4521")',
    'bella request -p my-api -e production --scope DATABASE_URL --reason "INC-4521" --break-glass',
    'bella request -p my-api -e production --db pg-prod:readonly --ttl 30m --reason "INC-4521"',
  ],
  action: request,
};

export const requestsCommand: CommandSpec = {
  name: 'requests',
  summary: 'access requests: list, approve, deny, fetch a token, review break-glass',
  subcommands: [
    {
      name: 'list',
      summary: 'access requests, newest first (members see their own)',
      options: [
        { long: 'status', value: 'status', description: 'only these', choices: REQUEST_STATUSES },
        { long: 'unreviewed', description: 'only break-glass grants the owner has not reviewed' },
        wideOption,
      ],
      action: list,
    },
    {
      name: 'approve',
      summary: 'approve a pending request: its lease starts now (owner and admins, never one’s own)',
      args: [idArg],
      options: [
        ttlOption('a shorter lifetime than asked for'),
        { long: 'reason', value: 'text', description: 'why (kept in the audit trail)' },
      ],
      action: approve,
    },
    {
      name: 'deny',
      summary: 'deny a pending request; the requester sees the reason',
      args: [idArg],
      options: [{ long: 'reason', value: 'text', description: 'why (shown to the requester)', required: true }],
      action: deny,
    },
    {
      name: 'token',
      summary: 'fetch an approved request’s token, once (the requester)',
      args: [idArg],
      action: token,
    },
    {
      name: 'review',
      summary: 'acknowledge a break-glass grant (owner only)',
      args: [idArg],
      options: [{ long: 'note', value: 'text', description: 'what the review found (kept in the audit trail)' }],
      action: review,
    },
  ],
};
