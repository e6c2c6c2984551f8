import {
  BellaError,
  DEFAULT_REQUEST_WINDOW_SECONDS,
  databaseKey,
  formatDuration,
  type AccessRequest,
  type OperationArgs,
  type RequestStatus,
} from '../../api';
import type { ChannelEvent } from '../../channels';
import { iso } from '../../base/common/time';
import { randomId, type AuditInput, type State, type StoredAccessRequest, type Touched } from '../../store';
import { acting } from './caller';

// Access request records (issue 17): how one is made, read (its status at an instant, its view)
// and described (audit entries, channel events). No state of their own; the service is requests.ts.

/** A new pending request of the caller (`acting()`), its window from `now`. */
export function newRequest(
  args: OperationArgs<'createAccessRequest'>,
  memberId: string,
  now: number,
): StoredAccessRequest {
  return {
    id: `req_${randomId(16)}`,
    memberId,
    requester: acting(),
    project: args.project,
    environment: args.environment,
    scope: [...new Set(args.scope)],
    ...(args.db ? { db: args.db } : {}),
    ttlSeconds: args.ttlSeconds ?? null,
    reason: args.reason,
    createdAt: now,
    windowEndsAt: now + (args.windowSeconds ?? DEFAULT_REQUEST_WINDOW_SECONDS) * 1000,
    status: 'pending',
    decidedAt: null,
    decidedBy: null,
    decision: null,
    leaseId: null,
    sealedToken: null,
    breakGlass: false,
    reviewedAt: null,
    reviewedBy: null,
  };
}

/** Puts `request` in the state and marks its record for the commit. */
export function store(state: State, touched: Touched, request: StoredAccessRequest): void {
  state.accessRequests.set(request.id, request);
  touched.record('accessRequest', request.id);
}

/** The AAD sealing an approved request's token to its request. */
export function tokenAad(id: string): string {
  return `bella/request-token/${id}`;
}

/** `alice` of `alice (device sha256:…)`. */
export function nameOf(request: StoredAccessRequest): string {
  return request.requester.replace(/ \(device .*\)$/, '');
}

/** A pending request past its window reads as expired before it is recorded so. */
export function statusOf(request: StoredAccessRequest, now: number): RequestStatus {
  return request.status === 'pending' && now >= request.windowEndsAt ? 'expired' : request.status;
}

/** Why a request gives no token or decision now: still pending, denied (with why), expired, decided. */
export function notApproved(request: StoredAccessRequest, status: RequestStatus): BellaError {
  const what =
    status === 'pending'
      ? 'is still waiting for an approver'
      : status === 'denied'
        ? `was denied${request.decision ? `: ${request.decision}` : ''}`
        : status === 'expired'
          ? `expired unanswered at ${iso(request.windowEndsAt)}: ask again (bella request)`
          : `was already approved`;
  return new BellaError('conflict', `request ${request.id} ${what}`);
}

/** The audit entry of an approval or a denial, naming the approver and the request. */
export function decisionEntry(
  kind: 'AccessApproved' | 'AccessDenied',
  request: StoredAccessRequest,
  reason: string | undefined,
  what: string,
) {
  return {
    event: kind,
    outcome: 'Success' as const,
    actor: acting(),
    project: request.project,
    environment: request.environment,
    ...(request.leaseId ? { leaseId: request.leaseId } : {}),
    keys: request.scope,
    ...(reason ? { reason } : {}),
    message: `${what}: request ${request.id} of ${nameOf(request)} (${request.reason})`,
  };
}

/** The channel event of a request or a break-glass grant: metadata only, never a way to approve. */
export function event(
  type: 'AccessRequested' | 'BreakGlass',
  request: StoredAccessRequest,
  at: number,
  expiresAt?: number,
): ChannelEvent {
  return {
    type,
    at,
    data: {
      project: request.project,
      environment: request.environment,
      leaseIds: request.leaseId ? [request.leaseId] : [],
      ...(expiresAt
        ? {
            leases: [{ id: request.leaseId!, scope: request.scope, reason: request.reason, expiresAt: iso(expiresAt) }],
          }
        : {}),
      reason: request.reason,
      requestId: request.id,
      requester: nameOf(request),
    },
  };
}

/** The request as listed: never its token. */
export function view(r: StoredAccessRequest, now: number): AccessRequest {
  const at = (ms: number | null) => (ms === null ? null : iso(ms));
  return {
    id: r.id,
    requester: nameOf(r),
    project: r.project,
    environment: r.environment,
    scope: r.scope,
    db: r.db ?? null,
    ttlSeconds: r.ttlSeconds,
    reason: r.reason,
    status: statusOf(r, now),
    createdAt: iso(r.createdAt),
    windowEndsAt: iso(r.windowEndsAt),
    decidedAt: at(r.decidedAt),
    decidedBy: r.decidedBy,
    decision: r.decision,
    leaseId: r.leaseId,
    tokenWaiting: r.sealedToken !== null,
    breakGlass: r.breakGlass,
    reviewedAt: at(r.reviewedAt),
    reviewedBy: r.reviewedBy,
  };
}

/** The audit entry of a request whose window passed unanswered (written by the daemon). */
export function expiredEntry(request: StoredAccessRequest): AuditInput {
  return {
    event: 'AccessRequestExpired',
    outcome: 'Success',
    actor: 'daemon',
    project: request.project,
    environment: request.environment,
    at: request.windowEndsAt,
    message: `request ${request.id} of ${nameOf(request)} expired unanswered at ${iso(request.windowEndsAt)}`,
  };
}

/** What a request asks for, for people: its keys, and `PG_PROD_URL (pg-prod:readonly)` for `--db`. */
export function what(request: StoredAccessRequest): string {
  const db = request.db ? [`${databaseKey(request.db.split(':')[0]!)} (${request.db})`] : [];
  return [...request.scope, ...db].join(', ');
}

/** The audit entry of a new request, naming its window's end. */
export function requestedEntry(request: StoredAccessRequest): AuditInput {
  return {
    event: 'AccessRequested',
    outcome: 'Success',
    actor: acting(),
    project: request.project,
    environment: request.environment,
    keys: request.scope,
    reason: request.reason,
    message: `request ${request.id}${request.db ? ` with a database login (${request.db})` : ''}${request.ttlSeconds ? ` for ${formatDuration(request.ttlSeconds)}` : ''}; approvers have until ${iso(request.windowEndsAt)}`,
  };
}

/** The audit entry of a break-glass grant: `PolicyBypassed`, with the review it waits for. */
export function bypassedEntry(request: StoredAccessRequest, limitSeconds: number): AuditInput {
  return {
    event: 'PolicyBypassed',
    outcome: 'Success',
    actor: acting(),
    project: request.project,
    environment: request.environment,
    leaseId: request.leaseId!,
    keys: request.scope,
    reason: request.reason,
    message: `break-glass: request ${request.id} granted without approval (at most ${formatDuration(limitSeconds)}); the owner reviews it (bella requests review ${request.id})`,
  };
}

/**
 * Whether a request may leave the state once `cutoff` has passed (the hourly maintenance): decided
 * or expired before it, not a break-glass grant still waiting for the owner's review, and not one
 * whose lease is still active (its token may still wait for the requester). Its audit entries stay.
 */
export function prunable(request: StoredAccessRequest, state: State, cutoff: number, now: number): boolean {
  // Still pending as stored (even past its window): its expiry is recorded, and audited, first.
  if (request.status === 'pending') return false;
  if (request.breakGlass && request.reviewedAt === null) return false;
  const lease = request.leaseId ? state.leases.get(request.leaseId) : undefined;
  if (lease && lease.status === 'active' && lease.expiresAt > now) return false;
  const endedAt = Math.max(request.decidedAt ?? request.windowEndsAt, request.reviewedAt ?? 0);
  return endedAt < cutoff;
}
