import { effectiveStatus } from '../base/common/lease-status';
import { formatCatchUpSummary, WarningGrouper } from '../notify';
import type { AuditInput, CommitKind, LeaseFields, State, StoredLease, Touched } from '../store';
import { DeadlineScheduler, SlotQueue, type Deadline } from './deadlines';
import type { ChannelsService } from './channels';
import type { DesktopNotificationsService } from './desktop-notifications';
import { LeaseChanges, type EndedLease } from './lease-changes';
import { leaseEvents, toChannelEvent, toDaemonEvent, toWarningGroup, type LeaseEvent } from './lease-events';
import { warnAt, warnBeforeSeconds, warnPoint } from './lease-rules';
import type { ServiceContext } from './service-context';

// The lease lifecycle, in four modules (as openbao keeps expiration.go to timers, persistence and
// revocation):
//   lease-rules.ts      pure rules: views of a lease, ttl under a policy, when to warn
//   lease-changes.ts    LeaseChanges: the state changes of one transaction, with their audit
//   lease-events.ts     a commit's changes as per-environment events, for SSE, channels, desktop
//   lease-lifecycle.ts  this file: the one commit path, the deadline timer, catch-up at start
//
// Entry points:
//   lifecycle.transact(change, kind)  every transaction that changes a lease (issue, renew, revoke,
//                                     expire-all, a policy's caps, deleting a project or an
//                                     environment, archiving, a holder's own revoke)
//   lifecycle.start()                 once at start-up: what passed while the daemon was down,
//                                     through the same commit path, announced as one summary
//   lifecycle.activeCounts(), .activeLeasesOf()   reads of the active leases
//   store.transact(change)            only transactions that change no lease (settings, channels,
//                                     secrets, creating projects and environments); only
//                                     LeaseChanges marks a lease touched (lint: eslint.config.js)

type Point = 'warn' | 'expire';
const POINTS: readonly Point[] = ['warn', 'expire'];
/**
 * Leases ended or warned in one commit at most: a burst of expiries at one instant (10,000 leases
 * issued together), or a catch-up at start, is committed in batches, each announced on its own, so
 * that no transaction holds every ended lease at once (docs/decisions.md, "Expiry in batches").
 */
export const MAX_POINTS_PER_COMMIT = 250;

/**
 * The one owner of lease transitions (openbao's ExpirationManager): every change to a lease goes
 * through {@link transact}, whose side effects (deadlines, events, notifications) run once the
 * change is durable. It keeps one timer for the nearest warn or expiry point of all active
 * leases, warns once per lease period (grouped), marks leases expired on time, and at start-up
 * applies what passed while the daemon was down.
 */
export class LeaseLifecycle {
  /** The next point of every active lease, keyed by its row in the lease table (no string per lease). */
  readonly scheduler: DeadlineScheduler<Point, number>;
  private readonly queue = new SlotQueue<Point>(POINTS);
  private readonly grouper: WarningGrouper;
  private readonly retryMs = 1000;
  private readonly loginsEnded: Array<() => void> = [];

  constructor(
    private readonly ctx: ServiceContext,
    private readonly desktop: DesktopNotificationsService,
    private readonly channels: ChannelsService,
  ) {
    this.scheduler = new DeadlineScheduler<Point, number>({
      queue: this.queue,
      now: ctx.clock,
      // Rows become ids at once: the table may be packed (rows renumbered) before the commit runs.
      onDue: (items) => void this.fire(items.map((i) => ({ id: this.leases.idAt(i.id), value: i.value }))),
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
    // Rows renumbered by a compaction: the queue follows; rows replaced (a reload): it is rebuilt.
    this.leases.onRenumber((map) => {
      if (map) this.queue.remap(map);
      else this.scheduler.clear();
    });
  }

  private get leases() {
    return this.ctx.store.state.leases;
  }

  /** The nearest warn or expiry point, by lease id. */
  nextPoint(): { id: string; at: number; value: Point } | undefined {
    const next = this.scheduler.next();
    return next && { id: this.leases.idAt(next.id), at: next.at, value: next.value };
  }

  /**
   * Runs a transaction that may change leases; their side effects run once it committed. The
   * entries of the lease transitions come first in the trail, then those `change` returns.
   */
  async transact<R>(
    change: (state: State, leases: LeaseChanges, touched: Touched) => { result: R; audit?: AuditInput[] },
    kind: CommitKind = 'growth',
  ): Promise<R> {
    const { result, changes, events } = await this.commit(change, kind);
    for (const { lease } of changes.outcomes.values()) this.schedule(lease);
    for (const event of events) {
      // Built only for a listener (an SSE client): most issues have none, and each is ~0.6 KB.
      if (this.ctx.events.size) this.ctx.events.emit(toDaemonEvent(event));
      if (event.type === 'LeaseExpiringSoon') this.grouper.add(toWarningGroup(event));
    }
    return result;
  }

  /**
   * The one commit path: applies `change` with a fresh {@link LeaseChanges}, and writes its events
   * to the channel outbox in the same commit (a change that does not commit never notifies).
   */
  private async commit<R>(
    change: (state: State, leases: LeaseChanges, touched: Touched) => { result: R; audit?: AuditInput[] },
    kind: CommitKind,
  ): Promise<{ result: R; changes: LeaseChanges; events: LeaseEvent[] }> {
    const out = await this.ctx.store.transact((state, touched) => {
      const changes = new LeaseChanges(state, touched, this.ctx.clock(), this.ctx.store.keys.tokenKey);
      const { result, audit } = change(state, changes, touched);
      changes.settle();
      const events = leaseEvents(changes);
      // Channel events list each lease's metadata: built only when a channel may want them.
      if (state.channels.size) this.channels.fanOut(state, touched, events.map(toChannelEvent));
      return { result: { result, changes, events }, audit: [...changes.audit, ...(audit ?? [])] };
    }, kind);
    this.channels.committed();
    if (out.changes.endedLogins.length) for (const listener of this.loginsEnded) listener();
    return out;
  }

  /** Runs `listener` after a commit that ended leases holding database login roles. */
  onLoginsEnded(listener: () => void): void {
    this.loginsEnded.push(listener);
  }

  /** Schedules a lease's next point, or forgets it once it ended. */
  private schedule(lease: LeaseFields | EndedLease): void {
    const row = this.leases.rowOf(lease.id);
    if (lease.status !== 'active' || row < 0) {
      this.grouper.remove(lease.id);
      if (row >= 0) this.scheduler.cancel(row);
      return;
    }
    if (lease.warnedFor !== lease.expiresAt) this.grouper.remove(lease.id);
    const [at, point] = this.pointOf(lease, this.ctx.clock());
    this.scheduler.schedule(row, at, point);
  }

  /** An active lease's next point: its warning (`warn`, from warnAt) if still ahead, else its expiry. */
  private pointOf(lease: LeaseFields, now: number, warn = warnAt(this.ctx.store.state, lease)): [number, Point] {
    return warn !== null && warn > now ? [warn, 'warn'] : [lease.expiresAt, 'expire'];
  }

  /**
   * Schedules every active lease in one pass and one O(n) build: no sift, string or Map entry per
   * lease. With `caughtUp`, the leases whose expiry passed (not scheduled) and those inside their
   * warning window (scheduled for their expiry) are handed to it instead: the start's catch-up.
   */
  private scheduleAll(
    now: number,
    caughtUp?: (row: number, expired: boolean, project: string, environment: string) => void,
  ): void {
    const state = this.ctx.store.state;
    const table = state.leases;
    const { project: projects, environment: environments } = table.dicts;
    // The warning window of each project and environment pair met, by their codes in the table.
    const windows = new Map<number, number | null>();
    // Numbers only, each point added as it is found (no cursor, string or array per lease).
    this.queue.build(table.rowCount, (add) => {
      table.scanDeadlines('active', (row, project, environment, expiresAt, warnedFor, periodStart) => {
        const pair = project * environments.values.length + environment;
        let before = windows.get(pair);
        if (before === undefined) {
          before = warnBeforeSeconds(state, projects.values[project]!, environments.values[environment]!);
          windows.set(pair, before);
        }
        const warn =
          before === null ? null : warnPoint(before, expiresAt, warnedFor < 0 ? null : warnedFor, periodStart);
        if (caughtUp && (now >= expiresAt || (warn !== null && warn <= now))) {
          caughtUp(row, now >= expiresAt, projects.values[project]!, environments.values[environment]!);
          if (now >= expiresAt) return;
        }
        if (warn !== null && warn > now) add(row, warn, 'warn');
        else add(row, expiresAt, 'expire');
      });
    });
    this.scheduler.rearm();
  }

  /** Active leases, by environment (`project/environment`): the one place they are counted. */
  activeCounts(): Map<string, number> {
    const now = this.ctx.clock();
    // By project, then environment: no key is built per lease (a million leases are counted often).
    const byProject = new Map<string, Map<string, number>>();
    this.ctx.store.state.leases.scan((lease) => {
      if (effectiveStatus(lease, now) !== 'active') return;
      let envs = byProject.get(lease.project);
      if (!envs) byProject.set(lease.project, (envs = new Map()));
      envs.set(lease.environment, (envs.get(lease.environment) ?? 0) + 1);
    });
    const counts = new Map<string, number>();
    for (const [project, envs] of byProject) for (const [env, n] of envs) counts.set(`${project}/${env}`, n);
    return counts;
  }

  /** Active leases of one environment. */
  activeLeasesOf(project: string, environment: string): StoredLease[] {
    const now = this.ctx.clock();
    const out: StoredLease[] = [];
    this.ctx.store.state.leases.scan((l) => {
      if (l.project === project && l.environment === environment && effectiveStatus(l, now) === 'active') {
        out.push(l.lease());
      }
    });
    return out;
  }

  /**
   * Applies every expiry that passed while the daemon was down (audited at the true expiry time),
   * marks leases already inside their warning window as warned, schedules the rest, and sends one
   * summary notification when anything was caught up.
   */
  async start(): Promise<{ expired: number; expiringSoon: number }> {
    const now = this.ctx.clock();
    const expired: Array<Pick<StoredLease, 'id' | 'project' | 'environment'>> = [];
    const expiringSoon: StoredLease[] = [];
    // One pass over the table's numbers: only the leases warned about are built. Those already
    // expired are ended by the catch-up commit below (in their rows), not by the timer.
    const leases = this.ctx.store.state.leases;
    this.scheduleAll(now, (row, isExpired, project, environment) => {
      const id = leases.idAt(row);
      if (isExpired) expired.push({ id, project, environment });
      else expiringSoon.push(leases.get(id)!);
    });
    // Only a catch-up is worth a commit; a clean start writes nothing before serving.
    if (expired.length || expiringSoon.length) {
      const points = [
        ...expired.map(({ id }) => ({ id, value: 'expire' as Point })),
        ...expiringSoon.map(({ id }) => ({ id, value: 'warn' as Point })),
      ];
      for (let i = 0; i < points.length; i += MAX_POINTS_PER_COMMIT) {
        const { changes } = await this.commit((state, changes) => {
          // Each lease as it is now (the state hands out copies), if it is still active.
          for (const { id, value } of points.slice(i, i + MAX_POINTS_PER_COMMIT)) {
            const r = state.leases.rowOf(id);
            const row = r < 0 ? null : state.leases.at(r);
            if (row?.status !== 'active') continue;
            if (value === 'expire') changes.endRow(row, 'expired', 'expired', 'daemon');
            else changes.warn(row.lease());
          }
          return { result: null };
        }, 'release');
        for (const { lease } of changes.outcomes.values()) this.schedule(lease);
      }
      // One summary instead of a burst of warnings and events (channels were told in the commits).
      const summary = formatCatchUpSummary({ expired, expiringSoon });
      this.ctx.log(`${summary.title} (caught up at start-up)`);
      this.desktop.send(summary.title, summary.message);
    }
    return { expired: expired.length, expiringSoon: expiringSoon.length };
  }

  private rebuild(): void {
    this.scheduleAll(this.ctx.clock());
  }

  /** Due points, committed in batches of at most {@link MAX_POINTS_PER_COMMIT}, one after another. */
  private async fire(items: Array<Omit<Deadline<Point>, 'at'>>): Promise<void> {
    for (let i = 0; i < items.length; i += MAX_POINTS_PER_COMMIT) {
      await this.fireBatch(items.slice(i, i + MAX_POINTS_PER_COMMIT));
    }
  }

  private async fireBatch(items: Array<Omit<Deadline<Point>, 'at'>>): Promise<void> {
    try {
      await this.transact((state, changes) => {
        for (const item of items) {
          const r = state.leases.rowOf(item.id);
          if (r < 0) continue;
          // Read from its row: an expiring lease is ended there, never built whole.
          const row = state.leases.at(r);
          if (row.status !== 'active') continue;
          if (changes.now >= row.expiresAt) {
            changes.endRow(row, 'expired', 'expired', 'daemon');
            continue;
          }
          const lease = row.lease();
          if (item.value === 'warn' && warnAt(state, lease) !== null) changes.warn(lease);
          else changes.reschedule(lease);
        }
        return { result: null };
      }, 'release');
    } catch (err) {
      const now = this.ctx.clock();
      this.ctx.log(`could not record expiries (${(err as Error).message}); retrying in ${this.retryMs} ms`);
      for (const item of items) {
        const row = this.leases.rowOf(item.id);
        if (row >= 0) this.scheduler.schedule(row, now + this.retryMs, item.value);
      }
    }
  }

  /** Stops the deadline timer and drops the warnings waiting for their window (at shutdown). */
  stop(): void {
    this.scheduler.stop();
    this.grouper.stop();
  }
}
