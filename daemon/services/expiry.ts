import { formatCatchUpSummary, WarningGrouper } from '../notify';
import { own, type AuditInput, type State, type StoredLease } from '../store';
import { iso, type LeaseWatcher, type ServiceContext } from './context';
import { DeadlineScheduler, type Deadline } from './deadlines';
import { endLease } from './leases';
import type { NotificationsService } from './notifications';

type Point = 'warn' | 'expire';

/** When a lease should be warned about, or null when it should not (no policy, ttl too short, already warned). */
export function warnAt(state: State, lease: StoredLease): number | null {
  const project = own(state.projects, lease.project);
  const policy = project && own(project.environments, lease.environment)?.policy;
  if (!policy || lease.warnedFor === lease.expiresAt) return null;
  const at = lease.expiresAt - policy.warnBeforeSeconds * 1000;
  // A lease whose whole period is shorter than the warning window is not warned about.
  const periodStart = lease.renewedAt ?? lease.issuedAt;
  return at > periodStart ? at : null;
}

/**
 * The expiry engine: one timer for the nearest warn or expiry point of all active leases.
 * Warns once per lease period (audit, event, grouped desktop notification), marks leases
 * expired on time, and at start-up applies what passed while the daemon was down.
 */
export class ExpiryEngine implements LeaseWatcher {
  readonly scheduler: DeadlineScheduler<Point>;
  private readonly grouper: WarningGrouper;
  private readonly retryMs = 1000;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly notifications: NotificationsService,
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
        this.notifications.send(notification.title, notification.message, {
          project: group.project,
          environment: group.environment,
        }),
      onError: (err) => ctx.log(`expiry warning failed: ${String(err)}`),
    });
    ctx.store.onReload(() => this.rebuild());
  }

  /** Schedules the next point of a lease (issue, renew, policy change). */
  changed(lease: StoredLease): void {
    this.grouper.remove(lease.id);
    if (lease.status !== 'active') {
      this.scheduler.cancel(lease.id);
      return;
    }
    const warn = warnAt(this.ctx.store.state, lease);
    const now = this.ctx.clock();
    if (warn !== null && warn > now) this.scheduler.schedule(lease.id, warn, 'warn');
    else this.scheduler.schedule(lease.id, lease.expiresAt, 'expire');
  }

  ended(leaseId: string): void {
    this.grouper.remove(leaseId);
    this.scheduler.cancel(leaseId);
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
      if (now >= lease.expiresAt) {
        expired.push(lease);
        continue;
      }
      const warn = warnAt(state, lease);
      if (warn !== null && warn <= now) expiringSoon.push(lease);
      this.changed(lease);
    }
    // Only a catch-up is worth a commit; a clean start writes nothing before serving.
    if (expired.length || expiringSoon.length) {
      await this.ctx.store.transact(() => ({
        result: null,
        touched: { leases: [...expired, ...expiringSoon].map((l) => l.id) },
        audit: [
          ...expired.map((lease) => endLease(lease, 'expired', lease.expiresAt, 'expired', 'daemon')),
          ...expiringSoon.map((lease) => this.warned(lease)),
        ],
      }));
    }
    if (expired.length || expiringSoon.length) {
      const summary = formatCatchUpSummary({ expired, expiringSoon });
      this.ctx.log(`${summary.title} (caught up at start-up)`);
      this.notifications.send(summary.title, summary.message);
    }
    return { expired: expired.length, expiringSoon: expiringSoon.length };
  }

  private rebuild(): void {
    for (const lease of this.ctx.store.state.leases.values()) {
      if (lease.status === 'active') this.changed(lease);
      else this.scheduler.cancel(lease.id);
    }
  }

  private warned(lease: StoredLease): AuditInput {
    lease.warnedFor = lease.expiresAt;
    return {
      event: 'LeaseExpiringSoon',
      outcome: 'Success',
      actor: 'daemon',
      project: lease.project,
      environment: lease.environment,
      leaseId: lease.id,
      reason: lease.reason,
      message: `expires at ${iso(lease.expiresAt)}`,
    };
  }

  private async fire(items: Array<Deadline<Point>>): Promise<void> {
    const now = this.ctx.clock();
    const warned: StoredLease[] = [];
    const expired: StoredLease[] = [];
    try {
      await this.ctx.store.transact((state) => {
        const audit: AuditInput[] = [];
        for (const item of items) {
          const lease = state.leases.get(item.id);
          if (!lease || lease.status !== 'active') continue;
          if (now >= lease.expiresAt) {
            audit.push(endLease(lease, 'expired', lease.expiresAt, 'expired', 'daemon'));
            expired.push(lease);
          } else if (item.value === 'warn' && warnAt(state, lease) !== null) {
            audit.push(this.warned(lease));
            warned.push(lease);
            this.scheduler.schedule(lease.id, lease.expiresAt, 'expire');
          } else {
            this.changed(lease);
          }
        }
        return { result: null, audit, touched: { leases: items.map((i) => i.id) } };
      });
    } catch (err) {
      this.ctx.log(`could not record expiries (${(err as Error).message}); retrying in ${this.retryMs} ms`);
      for (const item of items) this.scheduler.schedule(item.id, now + this.retryMs, item.value);
      return;
    }
    for (const lease of warned) {
      this.grouper.add({
        project: lease.project,
        environment: lease.environment,
        leaseId: lease.id,
        scope: lease.scope,
        reason: lease.reason,
        expiresAt: lease.expiresAt,
      });
    }
    this.emitGrouped('LeaseExpiringSoon', warned);
    this.emitGrouped('LeaseExpired', expired);
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
      this.ctx.events.emit({
        type,
        at: iso(this.ctx.clock()),
        project: first.project,
        environment: first.environment,
        leaseIds: group.map((l) => l.id),
        ...(group.length === 1 ? { expiresAt: iso(first.expiresAt) } : {}),
      });
    }
  }

  stop(): void {
    this.scheduler.stop();
    this.grouper.stop();
  }
}
