import {
  formatDuration,
  type DaemonEvent,
  type HolderLease,
  type IssuedLease,
  type Lease,
  type LeasePolicy,
} from '../api';
import { effectiveStatus } from '../base/common/lease-status';
import { iso } from '../base/common/time';
import { formatCatchUpSummary, WarningGrouper } from '../notify';
import {
  hashToken,
  own,
  randomId,
  tokenSecret,
  type ArchivedLease,
  type AuditInput,
  type CommitKind,
  type State,
  type StoredEnvironment,
  type StoredLease,
  type Touched,
} from '../store';
import { DeadlineScheduler, type Deadline } from './deadlines';
import type { ChannelEvent } from '../channels';
import type { ChannelsService } from './channels';
import type { DesktopNotificationsService } from './desktop-notifications';
import type { Actor, ServiceContext } from './service-context';

/** The ttl of a lease when neither the request nor a policy names one. */
export const DEFAULT_TTL_SECONDS = 3600;

/** The lease as its owner sees it. */
export function toLease(lease: ArchivedLease, now: number): Lease {
  const status = effectiveStatus(lease, now);
  const endedAt = lease.endedAt ?? (status === 'expired' ? lease.expiresAt : null);
  return {
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
export function warnAt(state: State, lease: StoredLease): number | null {
  const project = own(state.projects, lease.project);
  const policy = project && own(project.environments, lease.environment)?.policy;
  if (!policy || lease.warnedFor === lease.expiresAt) return null;
  const at = lease.expiresAt - policy.warnBeforeSeconds * 1000;
  // A lease whose whole period is shorter than the warning window is not warned about.
  const periodStart = lease.renewedAt ?? lease.issuedAt;
  return at > periodStart ? at : null;
}

type Outcome = 'issued' | 'renewed' | 'revoked' | 'expired' | 'warned' | 'quiet';

/**
 * The lease transitions of one transaction. Each changes the lease in memory, marks it for the
 * commit and writes its audit entry; what must happen once it is durable (timers, events,
 * notifications) is collected and run by {@link LeaseLifecycle} after the commit, in one place.
 */
export class LeaseChanges {
  readonly audit: AuditInput[] = [];
  /** Leases whose deadlines changed, with what to announce about each. */
  readonly outcomes = new Map<string, { lease: StoredLease; outcome: Outcome }>();
  /** Events about the transaction as a whole, emitted once it committed. */
  readonly announcements: DaemonEvent[] = [];

  constructor(
    private readonly state: State,
    private readonly touched: Touched,
    readonly now: number,
    private readonly tokenKey: Buffer,
  ) {}

  private note(lease: StoredLease, outcome: Outcome): void {
    this.touched.lease(lease.id);
    this.outcomes.set(lease.id, { lease, outcome });
  }

  /** Issues a lease in `env` and returns it with its token (shown once, stored only as a keyed hash). */
  issue(
    env: StoredEnvironment,
    args: { project: string; environment: string; scope: string[]; ttlSeconds?: number; reason: string; actor: Actor },
  ): { lease: StoredLease; token: string; capped: IssuedLease['capped'] } {
    const { ttl, capped } = leaseTtl(args.ttlSeconds, env.policy, DEFAULT_TTL_SECONDS);
    const id = randomId(16);
    const secret = tokenSecret();
    const lease: StoredLease = {
      id,
      project: args.project,
      environment: args.environment,
      scope: [...new Set(args.scope)],
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
    };
    this.state.leases.set(id, lease);
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
      actor: 'owner',
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
    for (const lease of this.state.leases.values()) {
      if (lease.project !== project || (environment && lease.environment !== environment)) continue;
      if (lease.status !== 'active') continue;
      if (this.now >= lease.expiresAt) this.end(lease, 'expired', 'expired', 'daemon', true);
      else {
        this.end(lease, 'revoked', reason, actor, true);
        revoked.push(lease.id);
      }
    }
    return revoked;
  }

  /** Moves a lease's expiry earlier (a new policy's ttl); returns whether it changed. */
  cap(lease: StoredLease, cap: number): boolean {
    this.note(lease, 'quiet');
    if (lease.expiresAt <= cap) return false;
    lease.expiresAt = cap;
    return true;
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

  /** Emits `event` once the transaction committed. */
  announce(event: DaemonEvent): void {
    this.announcements.push(event);
  }

  /** Removes ended leases from the hot state (they were archived). */
  remove(ids: string[]): void {
    for (const id of ids) {
      this.state.leases.delete(id);
      this.touched.lease(id);
    }
  }
}

/**
 * What channels hear of one transaction's lease changes: issue, renew and revoke per lease;
 * expiries and warnings grouped per environment, as on the desktop; expire-all as one event.
 */
function channelEvents(changes: LeaseChanges): ChannelEvent[] {
  const events: ChannelEvent[] = [];
  const grouped = new Map<string, { type: 'LeaseExpired' | 'LeaseExpiringSoon'; leases: StoredLease[] }>();
  for (const { lease, outcome } of changes.outcomes.values()) {
    const single = { LeaseIssued: 'issued', LeaseRenewed: 'renewed', LeaseRevoked: 'revoked' } as const;
    const type = (Object.keys(single) as Array<keyof typeof single>).find((t) => single[t] === outcome);
    if (type) {
      events.push({
        type,
        at: changes.now,
        data: {
          project: lease.project,
          environment: lease.environment,
          leaseIds: [lease.id],
          leases: [eventLease(lease)],
          expiresAt: iso(lease.expiresAt),
          ...(outcome === 'revoked' && lease.endReason ? { reason: lease.endReason } : {}),
        },
      });
    } else if (outcome === 'expired' || outcome === 'warned') {
      const groupType = outcome === 'expired' ? 'LeaseExpired' : 'LeaseExpiringSoon';
      const key = `${groupType} ${lease.project}/${lease.environment}`;
      const group = grouped.get(key) ?? { type: groupType, leases: [] };
      group.leases.push(lease);
      grouped.set(key, group);
    }
  }
  for (const { type, leases } of grouped.values()) {
    const first = leases[0]!;
    events.push({
      type,
      at: changes.now,
      data: {
        project: first.project,
        environment: first.environment,
        leaseIds: leases.map((l) => l.id),
        leases: leases.map(eventLease),
        ...(leases.length === 1 ? { expiresAt: iso(first.expiresAt) } : {}),
      },
    });
  }
  for (const announced of changes.announcements) {
    if (announced.type !== 'LeasesExpiredAll') continue;
    events.push({
      type: 'LeasesExpiredAll',
      at: changes.now,
      data: { project: announced.project, environment: announced.environment, leaseIds: announced.leaseIds },
    });
  }
  return events;
}

/** A lease as channels see it: metadata only, never its token hash. */
function eventLease(lease: StoredLease) {
  return { id: lease.id, scope: lease.scope, reason: lease.reason, expiresAt: iso(lease.expiresAt) };
}

type Point = 'warn' | 'expire';

/**
 * The one owner of lease transitions (openbao's ExpirationManager): every change to a lease goes
 * through {@link transact}, whose side effects (deadlines, events, notifications) run once the
 * change is durable. It keeps one timer for the nearest warn or expiry point of all active
 * leases, warns once per lease period (grouped), marks leases expired on time, and at start-up
 * applies what passed while the daemon was down.
 */
export class LeaseLifecycle {
  readonly scheduler: DeadlineScheduler<Point>;
  private readonly grouper: WarningGrouper;
  private readonly retryMs = 1000;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly desktop: DesktopNotificationsService,
    private readonly channels: ChannelsService,
  ) {
    this.scheduler = new DeadlineScheduler<Point>({
      now: ctx.clock,
      onDue: (items) => void this.fire(items),
      onError: (err) => ctx.log(`expiry engine error: ${String(err)}`),
      // Re-check at least every minute, so expiries are applied soon after a suspend/resume.
      maxDelayMs: 60_000,
    });
    this.grouper = new WarningGrouper({
      now: ctx.clock,
      emit: (group, notification) =>
        this.desktop.send(notification.title, notification.message, {
          project: group.project,
          environment: group.environment,
        }),
      onError: (err) => ctx.log(`expiry warning failed: ${String(err)}`),
    });
    ctx.store.onReload(() => this.rebuild());
  }

  /**
   * Runs a transaction that may change leases; their side effects run once it committed. The
   * entries of the lease transitions come first in the trail, then those `change` returns.
   */
  async transact<R>(
    change: (state: State, leases: LeaseChanges, touched: Touched) => { result: R; audit?: AuditInput[] },
    kind: CommitKind = 'growth',
  ): Promise<R> {
    const { result, leases } = await this.ctx.store.transact((state, touched) => {
      const leases = new LeaseChanges(state, touched, this.ctx.clock(), this.ctx.store.keys.tokenKey);
      const out = change(state, leases, touched);
      // Channels hear of the change in the same commit as the change itself.
      this.channels.fanOut(state, touched, channelEvents(leases));
      return { result: { result: out.result, leases }, audit: [...leases.audit, ...(out.audit ?? [])] };
    }, kind);
    this.afterCommit(leases);
    return result;
  }

  private afterCommit(changes: LeaseChanges): void {
    const grouped = { warned: [] as StoredLease[], expired: [] as StoredLease[] };
    for (const { lease, outcome } of changes.outcomes.values()) {
      this.schedule(lease);
      if (outcome === 'issued') this.emitOne('LeaseIssued', lease);
      else if (outcome === 'renewed') this.emitOne('LeaseRenewed', lease);
      else if (outcome === 'revoked') this.emitOne('LeaseRevoked', lease);
      else if (outcome === 'expired') grouped.expired.push(lease);
      else if (outcome === 'warned') {
        grouped.warned.push(lease);
        this.grouper.add({
          project: lease.project,
          environment: lease.environment,
          leaseId: lease.id,
          scope: lease.scope,
          reason: lease.reason,
          expiresAt: lease.expiresAt,
        });
      }
    }
    this.emitGrouped('LeaseExpiringSoon', grouped.warned);
    this.emitGrouped('LeaseExpired', grouped.expired);
    for (const event of changes.announcements) this.ctx.events.emit(event);
    this.channels.committed();
  }

  /** Schedules a lease's next point, or forgets it once it ended. */
  private schedule(lease: StoredLease): void {
    if (lease.status !== 'active' || !this.ctx.store.state.leases.has(lease.id)) {
      this.grouper.remove(lease.id);
      this.scheduler.cancel(lease.id);
      return;
    }
    if (lease.warnedFor !== lease.expiresAt) this.grouper.remove(lease.id);
    const warn = warnAt(this.ctx.store.state, lease);
    if (warn !== null && warn > this.ctx.clock()) this.scheduler.schedule(lease.id, warn, 'warn');
    else this.scheduler.schedule(lease.id, lease.expiresAt, 'expire');
  }

  /** Active leases, by environment (`project/environment`): the one place they are counted. */
  activeCounts(): Map<string, number> {
    const now = this.ctx.clock();
    // By project, then environment: no key is built per lease (a million leases are counted often).
    const byProject = new Map<string, Map<string, number>>();
    for (const lease of this.ctx.store.state.leases.values()) {
      if (effectiveStatus(lease, now) !== 'active') continue;
      let envs = byProject.get(lease.project);
      if (!envs) byProject.set(lease.project, (envs = new Map()));
      envs.set(lease.environment, (envs.get(lease.environment) ?? 0) + 1);
    }
    const counts = new Map<string, number>();
    for (const [project, envs] of byProject) for (const [env, n] of envs) counts.set(`${project}/${env}`, n);
    return counts;
  }

  /** Active leases of one environment. */
  activeLeasesOf(project: string, environment: string): StoredLease[] {
    const now = this.ctx.clock();
    return [...this.ctx.store.state.leases.values()].filter(
      (l) => l.project === project && l.environment === environment && effectiveStatus(l, now) === 'active',
    );
  }

  /**
   * Applies every expiry that passed while the daemon was down (audited at the true expiry time),
   * marks leases already inside their warning window as warned, schedules the rest, and sends one
   * summary notification when anything was caught up.
   */
  async start(): Promise<{ expired: number; expiringSoon: number }> {
    const now = this.ctx.clock();
    const state = this.ctx.store.state;
    const expired: StoredLease[] = [];
    const expiringSoon: StoredLease[] = [];
    for (const lease of state.leases.values()) {
      if (lease.status !== 'active') continue;
      if (now >= lease.expiresAt) expired.push(lease);
      else {
        const warn = warnAt(state, lease);
        if (warn !== null && warn <= now) expiringSoon.push(lease);
        this.schedule(lease);
      }
    }
    // Only a catch-up is worth a commit; a clean start writes nothing before serving.
    if (expired.length || expiringSoon.length) {
      const changes = await this.ctx.store.transact((state, touched) => {
        const changes = new LeaseChanges(state, touched, now, this.ctx.store.keys.tokenKey);
        for (const lease of expired) changes.end(lease, 'expired', 'expired', 'daemon');
        for (const lease of expiringSoon) changes.warn(lease);
        this.channels.fanOut(state, touched, channelEvents(changes));
        return { result: changes, audit: changes.audit };
      }, 'release');
      this.channels.committed();
      // One summary instead of a burst of warnings and events.
      for (const { lease } of changes.outcomes.values()) this.schedule(lease);
      const summary = formatCatchUpSummary({ expired, expiringSoon });
      this.ctx.log(`${summary.title} (caught up at start-up)`);
      this.desktop.send(summary.title, summary.message);
    }
    return { expired: expired.length, expiringSoon: expiringSoon.length };
  }

  private rebuild(): void {
    this.scheduler.clear();
    for (const lease of this.ctx.store.state.leases.values()) if (lease.status === 'active') this.schedule(lease);
  }

  private async fire(items: Array<Deadline<Point>>): Promise<void> {
    try {
      await this.transact((state, changes) => {
        for (const item of items) {
          const lease = state.leases.get(item.id);
          if (!lease || lease.status !== 'active') continue;
          if (changes.now >= lease.expiresAt) changes.end(lease, 'expired', 'expired', 'daemon');
          else if (item.value === 'warn' && warnAt(state, lease) !== null) changes.warn(lease);
          else changes.reschedule(lease);
        }
        return { result: null };
      }, 'release');
    } catch (err) {
      const now = this.ctx.clock();
      this.ctx.log(`could not record expiries (${(err as Error).message}); retrying in ${this.retryMs} ms`);
      for (const item of items) this.scheduler.schedule(item.id, now + this.retryMs, item.value);
    }
  }

  private emitOne(type: 'LeaseIssued' | 'LeaseRenewed' | 'LeaseRevoked', lease: StoredLease): void {
    this.ctx.events.emit({
      type,
      at: iso(this.ctx.clock()),
      project: lease.project,
      environment: lease.environment,
      leaseIds: [lease.id],
      expiresAt: iso(lease.expiresAt),
    });
  }

  private emitGrouped(type: 'LeaseExpiringSoon' | 'LeaseExpired', leases: StoredLease[]): void {
    const groups = new Map<string, StoredLease[]>();
    for (const lease of leases) {
      const key = `${lease.project}/${lease.environment}`;
      const group = groups.get(key);
      if (group) group.push(lease);
      else groups.set(key, [lease]);
    }
    for (const group of groups.values()) {
      const first = group[0]!;
      const event: DaemonEvent = {
        type,
        at: iso(this.ctx.clock()),
        project: first.project,
        environment: first.environment,
        leaseIds: group.map((l) => l.id),
        ...(group.length === 1 ? { expiresAt: iso(first.expiresAt) } : {}),
      };
      this.ctx.events.emit(event);
    }
  }

  stop(): void {
    this.scheduler.stop();
    this.grouper.stop();
  }
}
