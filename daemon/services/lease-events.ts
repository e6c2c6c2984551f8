import type { DaemonEvent, LeaseEventName } from '../api';
import { iso } from '../base/common/time';
import type { ChannelEvent } from '../channels';
import type { WarningGroup } from '../notify';
import type { StoredLease } from '../store';
import type { EndedLease, LeaseChanges } from './lease-changes';

// The one place a commit's lease changes become events, grouped per environment. SSE
// (`toDaemonEvent`), the channel outbox (`toChannelEvent`) and the desktop's warning grouper
// (`toWarningGroup`) all read the same list; none of them groups leases again.

/** One lease event of a commit, about one environment. */
export interface LeaseEvent {
  type: LeaseEventName;
  /** ms since the epoch: the time of the transaction that caused it. */
  at: number;
  project: string;
  environment: string;
  /**
   * The leases concerned (issue, renew, revoke: one; warnings and expiries: those of the
   * environment); a lease ended in its row is its outline ({@link EndedLease}).
   */
  leases: Array<StoredLease | EndedLease>;
  /** `LeasesExpiredAll` only: the leases it revoked (its leases are not listed one by one). */
  leaseIds?: string[];
}

const SINGLE = { issued: 'LeaseIssued', renewed: 'LeaseRenewed', revoked: 'LeaseRevoked' } as const;

/**
 * The events of one transaction, in this order: issue, renew and revoke, one per lease; then the
 * warnings and the expiries, one event per environment each (leases crossing together are one
 * event); then one `LeasesExpiredAll` per expire-all. Quiet changes (caps, expire-all's and
 * deletions' own revocations) raise none.
 */
export function leaseEvents(changes: LeaseChanges): LeaseEvent[] {
  const events: LeaseEvent[] = [];
  // The groups are made on first use: an issue, a renew or a revoke (one lease) needs none.
  let warned: Map<string, LeaseEvent> | null = null;
  let expired: Map<string, LeaseEvent> | null = null;
  for (const { lease, outcome } of changes.outcomes.values()) {
    if (outcome === 'issued' || outcome === 'renewed' || outcome === 'revoked') {
      const { project, environment } = lease;
      events.push({ type: SINGLE[outcome], at: changes.now, project, environment, leases: [lease] });
    } else if (outcome === 'warned' || outcome === 'expired') {
      const groups = outcome === 'warned' ? (warned ??= new Map()) : (expired ??= new Map());
      const key = `${lease.project}/${lease.environment}`;
      const group = groups.get(key);
      if (group) group.leases.push(lease);
      else
        groups.set(key, {
          type: outcome === 'warned' ? 'LeaseExpiringSoon' : 'LeaseExpired',
          at: changes.now,
          project: lease.project,
          environment: lease.environment,
          leases: [lease],
        });
    }
  }
  if (warned) events.push(...warned.values());
  if (expired) events.push(...expired.values());
  for (const all of changes.expiredAll) {
    events.push({ type: 'LeasesExpiredAll', at: changes.now, ...all, leases: [] });
  }
  return events;
}

/** The ids of an event's leases. */
function idsOf(event: LeaseEvent): string[] {
  return event.leaseIds ?? event.leases.map((l) => l.id);
}

/** The expiry an event names: a single lease's; none for a group or an expire-all. */
function singleExpiry(event: LeaseEvent): { expiresAt?: string } {
  const only = event.leases.length === 1 ? event.leases[0] : undefined;
  return only ? { expiresAt: iso(only.expiresAt) } : {};
}

/** The event as `/v1/events` sends it. */
export function toDaemonEvent(event: LeaseEvent): DaemonEvent {
  return {
    type: event.type,
    at: iso(event.at),
    project: event.project,
    environment: event.environment,
    leaseIds: idsOf(event),
    ...singleExpiry(event),
  };
}

/** The event as the channel outbox stores it: metadata of the leases, never a token hash. */
export function toChannelEvent(event: LeaseEvent): ChannelEvent {
  const where = { project: event.project, environment: event.environment, leaseIds: idsOf(event) };
  if (event.type === 'LeasesExpiredAll') return { type: event.type, at: event.at, data: where };
  const revoked = event.type === 'LeaseRevoked' ? event.leases[0]?.endReason : null;
  return {
    type: event.type,
    at: event.at,
    data: {
      ...where,
      leases: event.leases.map((l) => ({ id: l.id, scope: l.scope, reason: l.reason, expiresAt: iso(l.expiresAt) })),
      ...singleExpiry(event),
      ...(revoked ? { reason: revoked } : {}),
    },
  };
}

/** A `LeaseExpiringSoon` event as the desktop's warning grouper takes it. */
export function toWarningGroup(event: LeaseEvent): WarningGroup {
  return {
    project: event.project,
    environment: event.environment,
    warnings: event.leases.map((l) => ({
      project: l.project,
      environment: l.environment,
      leaseId: l.id,
      scope: l.scope,
      reason: l.reason,
      expiresAt: l.expiresAt,
    })),
  };
}
