import { type HolderLease, type IssuedLease, type Lease, type LeasePolicy } from '../api';
import { effectiveStatus } from '../base/common/lease-status';
import { iso } from '../base/common/time';
import { own, type ArchivedLease, type LeaseFields, type State, type StoredLease } from '../store';

// The lease rules that need no clock of their own and change nothing: how a lease is shown, how
// long it lives under a policy, and when it is warned about. Pure functions, `now` passed in.

/** The ttl of a lease when neither the request nor a policy names one. */
export const DEFAULT_TTL_SECONDS = 3600;

/** The lease as its owner sees it. */
export function toLease(lease: ArchivedLease, now: number): Lease {
  const status = effectiveStatus(lease, now);
  const endedAt = lease.endedAt ?? (status === 'expired' ? lease.expiresAt : null);
  const out: Lease = {
    id: lease.id,
    project: lease.project,
    environment: lease.environment,
    scope: lease.scope,
    reason: lease.reason,
    issuedAt: iso(lease.issuedAt),
    expiresAt: iso(lease.expiresAt),
    status,
    renewals: lease.renewals,
    lastUsedAt: lease.lastUsedAt === null ? null : iso(lease.lastUsedAt),
    endedAt: endedAt === null ? null : iso(endedAt),
    endReason: lease.endReason ?? (status === 'expired' ? 'expired' : null),
  };
  if ('database' in lease && lease.database) {
    const { name, role, user, key } = lease.database;
    out.database = { name, role, user, key };
  }
  return out;
}

/** The lease as its token's holder sees it. */
export function toHolderLease(lease: StoredLease, now: number): HolderLease {
  return {
    id: lease.id,
    project: lease.project,
    environment: lease.environment,
    scope: lease.scope,
    issuedAt: iso(lease.issuedAt),
    expiresAt: iso(lease.expiresAt),
    status: effectiveStatus(lease, now),
    uses: lease.uses,
    lastUsedAt: lease.lastUsedAt === null ? null : iso(lease.lastUsedAt),
  };
}

/** A requested ttl under a policy: the policy's ttl by default, and a longer request capped to it. */
export function leaseTtl(
  requested: number | undefined,
  policy: LeasePolicy | null,
  fallback: number,
): { ttl: number; capped: IssuedLease['capped'] } {
  const ttl = requested ?? policy?.ttlSeconds ?? fallback;
  if (policy && ttl > policy.ttlSeconds) {
    return { ttl: policy.ttlSeconds, capped: { requestedSeconds: ttl, policySeconds: policy.ttlSeconds } };
  }
  return { ttl, capped: null };
}

/** When a lease should be warned about, or null (no policy, ttl too short, already warned). */
export function warnAt(state: State, lease: LeaseFields): number | null {
  const before = warnBeforeSeconds(state, lease.project, lease.environment);
  if (before === null) return null;
  return warnPoint(before, lease.expiresAt, lease.warnedFor, lease.renewedAt ?? lease.issuedAt);
}

/** The warning window of an environment's lease policy, in seconds, or null (no policy). */
export function warnBeforeSeconds(state: State, project: string, environment: string): number | null {
  const policy = own(own(state.projects, project)?.environments ?? {}, environment)?.policy;
  return policy ? policy.warnBeforeSeconds : null;
}

/**
 * {@link warnAt} from a lease's numbers: `warnBefore` seconds before `expiresAt`, unless it was
 * warned for that expiry or its period (from `periodStart`) is shorter than the window.
 */
export function warnPoint(
  warnBefore: number,
  expiresAt: number,
  warnedFor: number | null,
  periodStart: number,
): number | null {
  if (warnedFor === expiresAt) return null;
  const at = expiresAt - warnBefore * 1000;
  // A lease whose whole period is shorter than the warning window is not warned about.
  return at > periodStart ? at : null;
}
