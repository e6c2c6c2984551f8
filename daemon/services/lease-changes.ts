import { acting } from './team/caller';
import { formatDuration, type IssuedLease, type LeasePolicy } from '../api';
import { iso } from '../base/common/time';
import {
  hashToken,
  randomId,
  tokenSecret,
  type AuditInput,
  type LeaseDatabase,
  type LeaseRow,
  type State,
  type StoredEnvironment,
  type StoredLease,
  type Touched,
} from '../store';
import { DEFAULT_TTL_SECONDS, leaseTtl } from './lease-rules';
import type { Actor } from './service-context';

/** What became of a lease in one transaction; `quiet` changes deadlines only, with no event of its own. */
export type LeaseOutcome = 'issued' | 'renewed' | 'revoked' | 'expired' | 'warned' | 'quiet';

/**
 * A lease ended in its row of the lease table ({@link LeaseChanges.endRow}): what the commit's
 * events and the lifecycle read of it, without the whole lease.
 */
export interface EndedLease {
  id: string;
  project: string;
  environment: string;
  scope: string[];
  reason: string;
  status: 'expired' | 'revoked';
  expiresAt: number;
  endReason: string;
}

/**
 * The lease transitions of one transaction. Each changes the lease in memory, marks it for the
 * commit and writes its audit entry; what must happen once it is durable (timers, events,
 * notifications) is collected here and turned into events by `lease-events.ts`, and run by
 * `LeaseLifecycle` (lease-lifecycle.ts) after the commit.
 */
export class LeaseChanges {
  readonly audit: AuditInput[] = [];
  /** Leases whose deadlines changed, with what to announce about each. */
  readonly outcomes = new Map<string, { lease: StoredLease | EndedLease; outcome: LeaseOutcome }>();
  /** Environments whose leases were all ended by `expire-all`, with the ids of those revoked. */
  readonly expiredAll: Array<{ project: string; environment: string; leaseIds: string[] }> = [];
  /** Database login roles whose lease ended here: their drop is due once this commits. */
  readonly endedLogins: string[] = [];
  /** Leases issued here: they enter the state at {@link settle}. */
  private readonly issued = new Set<string>();
  /** The lease copies changed here, put back at {@link settle} (a lease ended in its row has none). */
  private readonly held = new Map<string, StoredLease>();

  constructor(
    private readonly state: State,
    private readonly touched: Touched,
    readonly now: number,
    private readonly tokenKey: Buffer,
  ) {}

  private note(lease: StoredLease, outcome: LeaseOutcome): void {
    // The state hands out copies of its leases: the changed copy goes back (never re-adding one gone).
    if (outcome !== 'issued' && this.state.leases.has(lease.id)) this.state.leases.set(lease.id, lease);
    this.touched.lease(lease.id);
    this.outcomes.set(lease.id, { lease, outcome });
    this.held.set(lease.id, lease);
  }

  /**
   * Puts every lease this transaction changed back into the state as it is now, so a field set on
   * it after its change (an issued lease's database login) is kept too; an issued lease enters the
   * state here, encoded into the lease table once. Run at the transaction's end.
   */
  settle(): void {
    for (const [id, lease] of this.held) {
      if (this.issued.has(id) || this.state.leases.has(id)) this.state.leases.set(id, lease);
    }
  }

  /** Issues a lease in `env` and returns it with its token (shown once, stored only as a keyed hash). */
  issue(
    env: StoredEnvironment,
    args: {
      project: string;
      environment: string;
      scope: string[];
      ttlSeconds?: number;
      reason: string;
      actor: Actor;
      /** The team member whose device asks for it. */
      by?: string;
    },
  ): { lease: StoredLease; token: string; capped: IssuedLease['capped'] } {
    const { ttl, capped } = leaseTtl(args.ttlSeconds, env.policy, DEFAULT_TTL_SECONDS);
    const id = randomId(16);
    const secret = tokenSecret();
    const lease: StoredLease = {
      id,
      project: args.project,
      environment: args.environment,
      scope: unique(args.scope),
      reason: args.reason,
      issuedAt: this.now,
      expiresAt: this.now + ttl * 1000,
      ttlSeconds: ttl,
      status: 'active',
      renewals: 0,
      renewedAt: null,
      lastUsedAt: null,
      endedAt: null,
      endReason: null,
      // Only a keyed hash is kept: the state file alone never yields a usable token.
      tokenHash: hashToken(this.tokenKey, id, secret),
      epoch: env.tokenEpoch,
      warnedFor: null,
      uses: 0,
      ...(args.by ? { by: args.by } : {}),
    };
    // Into the state at settle(), once its last field is set: the lease table encodes it once.
    this.issued.add(id);
    this.note(lease, 'issued');
    this.audit.push({
      event: 'LeaseIssued',
      outcome: 'Success',
      actor: args.actor,
      project: args.project,
      environment: args.environment,
      leaseId: id,
      keys: lease.scope,
      reason: args.reason,
      message: `ttl ${formatDuration(ttl)}${capped ? ` (requested ${formatDuration(capped.requestedSeconds)}, capped by policy)` : ''}`,
    });
    return { lease, token: `bax-${id}-${secret}`, capped };
  }

  /** Sets an active lease's expiry to now + ttl (capped by the policy). */
  renew(lease: StoredLease, policy: LeasePolicy | null, requested: number | undefined): IssuedLease['capped'] {
    const { ttl, capped } = leaseTtl(requested, policy, lease.ttlSeconds);
    lease.expiresAt = this.now + ttl * 1000;
    lease.renewals += 1;
    lease.renewedAt = this.now;
    this.note(lease, 'renewed');
    this.audit.push({
      event: 'LeaseRenewed',
      outcome: 'Success',
      actor: acting(),
      project: lease.project,
      environment: lease.environment,
      leaseId: lease.id,
      message: `extended to ${iso(lease.expiresAt)} (ttl ${formatDuration(ttl)})`,
    });
    return capped;
  }

  /**
   * Ends an active lease. An expiry is recorded at the lease's own expiry instant. `quiet` ends
   * it without its own event (expire-all and deletions announce the whole change instead).
   */
  end(lease: StoredLease, status: 'revoked' | 'expired', reason: string, actor: Actor, quiet = false): void {
    const at = status === 'expired' ? lease.expiresAt : this.now;
    lease.status = status;
    lease.endedAt = at;
    lease.endReason = reason;
    this.note(lease, quiet ? 'quiet' : status);
    this.ended(lease, lease.database, status, at, reason, actor);
  }

  /**
   * Ends the active lease a row cursor stands on, as {@link end} does, in its row of the lease
   * table: no copy of the lease is built, and its outcome holds only what the events read (an
   * expiry of 10,000 leases holds what its commit needs and no more).
   */
  endRow(row: LeaseRow, status: 'revoked' | 'expired', reason: string, actor: Actor, quiet = false): void {
    const at = status === 'expired' ? row.expiresAt : this.now;
    const lease: EndedLease = {
      id: row.id,
      project: row.project,
      environment: row.environment,
      scope: row.scope as string[],
      reason: row.reason,
      status,
      expiresAt: row.expiresAt,
      endReason: reason,
    };
    this.state.leases.end(row.row, status, at, reason);
    this.held.delete(lease.id);
    this.touched.lease(lease.id);
    this.outcomes.set(lease.id, { lease, outcome: quiet ? 'quiet' : status });
    this.ended(lease, row.database, status, at, reason, actor);
  }

  /** An ended lease's database login (to be dropped once this commits) and its audit entry. */
  private ended(
    lease: Pick<StoredLease, 'id' | 'project' | 'environment'>,
    database: LeaseDatabase | undefined,
    status: 'revoked' | 'expired',
    at: number,
    reason: string,
    actor: Actor,
  ): void {
    // Its database login role (if any) is to be dropped: the job is due in this same commit.
    const login = database && this.state.dbLogins.get(database.user);
    if (login && login.phase !== 'dropping') {
      login.phase = 'dropping';
      login.nextAttemptAt = this.now;
      this.touched.record('dblogin', login.id);
      this.endedLogins.push(login.id);
    }
    this.audit.push({
      event: status === 'revoked' ? 'LeaseRevoked' : 'LeaseExpired',
      outcome: 'Success',
      actor,
      project: lease.project,
      environment: lease.environment,
      leaseId: lease.id,
      reason,
      ...(status === 'expired' ? { at } : {}),
    });
  }

  /**
   * Ends every active lease of a project (or one environment of it): those past their expiry as
   * expired, the others revoked with `reason`. Returns the ids of those revoked.
   */
  endAllOf(project: string, environment: string | undefined, reason: string, actor: Actor): string[] {
    const revoked: string[] = [];
    for (const row of this.state.leases.rows()) {
      if (row.project !== project || (environment && row.environment !== environment)) continue;
      if (row.status !== 'active') continue;
      if (this.now >= row.expiresAt) this.endRow(row, 'expired', 'expired', 'daemon', true);
      else {
        this.endRow(row, 'revoked', reason, actor, true);
        revoked.push(row.id);
      }
    }
    return revoked;
  }

  /** Moves a lease's expiry earlier (a new policy's ttl); returns whether it changed. */
  cap(lease: StoredLease, cap: number): boolean {
    const capped = lease.expiresAt > cap;
    if (capped) lease.expiresAt = cap;
    this.note(lease, 'quiet');
    return capped;
  }

  /** Records that a lease was warned about for its current expiry. */
  warn(lease: StoredLease): void {
    lease.warnedFor = lease.expiresAt;
    this.note(lease, 'warned');
    this.audit.push({
      event: 'LeaseExpiringSoon',
      outcome: 'Success',
      actor: 'daemon',
      project: lease.project,
      environment: lease.environment,
      leaseId: lease.id,
      reason: lease.reason,
      message: `expires at ${iso(lease.expiresAt)}`,
    });
  }

  /** A lease whose deadlines changed without a state change of its own (its policy changed). */
  reschedule(lease: StoredLease): void {
    this.outcomes.set(lease.id, { lease, outcome: 'quiet' });
  }

  /**
   * `expire-all`: ends every active lease of an environment like {@link endAllOf}, announced as one
   * `LeasesExpiredAll` event instead of one per lease. Returns the ids of those revoked.
   */
  expireAll(project: string, environment: string, reason: string, actor: Actor): string[] {
    const revoked = this.endAllOf(project, environment, reason, actor);
    this.expiredAll.push({ project, environment, leaseIds: revoked });
    return revoked;
  }

  /** Removes ended leases from the hot state (they were archived). */
  remove(ids: string[]): void {
    for (const id of ids) {
      this.issued.delete(id);
      this.state.leases.delete(id);
      this.touched.lease(id);
    }
  }
}

/**
 * `list` without repeats, in first-seen order, as a new array of its size; a scope is a few keys
 * that rarely repeat, so no Set (nor a growing array) is made for one.
 */
function unique(list: readonly string[]): string[] {
  if (list.length > 16) return [...new Set(list)];
  for (let i = 1; i < list.length; i++) if (list.indexOf(list[i]!) !== i) return [...new Set(list)];
  return list.slice();
}
