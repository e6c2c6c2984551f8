import type { Lease } from './types';
import type { IssuedLease, RouteSpec } from './routes';

// Access requests and break-glass (issue 17, items 4 and 5): a teammate whose grant is `request`
// asks for a lease; the owner or an admin approves (the lease's clock starts then) or denies it.
// The routes sit here, spread into the contract by routes.ts; their inputs are in requests-inputs.ts.

/** Where a request stands. `expired`: its approval window passed unanswered. */
export const REQUEST_STATUSES = ['pending', 'approved', 'denied', 'expired'] as const;
/** One of {@link REQUEST_STATUSES}. */
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** Request ids: `req_` + 16 lowercase letters or digits. */
export const REQUEST_ID = /^req_[a-z0-9]{16}$/;

/** A request's approval window when `--window` names none: 1 h. */
export const DEFAULT_REQUEST_WINDOW_SECONDS = 3600;

/** An access request as listed. Never a token. */
export interface AccessRequest {
  id: string;
  /** The person who asked. */
  requester: string;
  project: string;
  environment: string;
  scope: string[];
  /** `DB:ROLE` asked for: a login role of the lease's own, read as `<DB>_URL`; null when none. */
  db: string | null;
  /** The lease's ttl asked for (the policy caps it at approval). */
  ttlSeconds: number | null;
  reason: string;
  status: RequestStatus;
  createdAt: string;
  /** When the approval window closes (a pending request expires then). */
  windowEndsAt: string;
  decidedAt: string | null;
  /** The audit actor who approved or denied it (`owner`, `bob (device sha256:…)`). */
  decidedBy: string | null;
  /** The approver's or denier's reason. */
  decision: string | null;
  leaseId: string | null;
  /** Approved, its token sealed in the store until the requester fetches it. */
  tokenWaiting: boolean;
  /** Granted at once under the environment's break-glass policy. */
  breakGlass: boolean;
  /** Break-glass only: when and by whom the owner acknowledged it; null while unreviewed. */
  reviewedAt: string | null;
  reviewedBy: string | null;
}

function route<O>() {
  return <P extends 'admin' | 'token'>(spec: Omit<RouteSpec<O>, 'output' | 'plane'> & { plane: P }) =>
    spec as RouteSpec<O> & { plane: P };
}

/** The access-request routes of the contract. */
export const requestRoutes = {
  createAccessRequest: route<{ request: AccessRequest; issued: IssuedLease | null }>()({
    method: 'POST',
    path: '/v1/requests',
    plane: 'admin',
    summary: 'Ask for a lease (a teammate with a grant); break-glass grants at once where the policy allows it',
  }),
  listAccessRequests: route<{ requests: AccessRequest[] }>()({
    method: 'GET',
    path: '/v1/requests',
    plane: 'admin',
    summary: 'Access requests, newest first (a member sees her own; approvers all)',
  }),
  getAccessRequest: route<{ request: AccessRequest }>()({
    method: 'GET',
    path: '/v1/requests/:id',
    plane: 'admin',
    summary: 'One access request (a member: her own)',
  }),
  approveAccessRequest: route<{ request: AccessRequest; lease: Lease }>()({
    method: 'POST',
    path: '/v1/requests/:id/approve',
    plane: 'admin',
    summary: 'Approve a pending request: issues its lease now (owner and admins; never one’s own)',
  }),
  denyAccessRequest: route<{ request: AccessRequest }>()({
    method: 'POST',
    path: '/v1/requests/:id/deny',
    plane: 'admin',
    summary: 'Deny a pending request with a reason (owner and admins; never one’s own)',
  }),
  fetchRequestToken: route<IssuedLease>()({
    method: 'POST',
    path: '/v1/requests/:id/token',
    plane: 'admin',
    summary: "The approved request's token, once, for its requester",
  }),
  reviewAccessRequest: route<{ request: AccessRequest }>()({
    method: 'POST',
    path: '/v1/requests/:id/review',
    plane: 'admin',
    summary: 'Acknowledge a break-glass grant (owner only)',
  }),
} as const;
