import cron, { type ScheduledTask } from 'node-cron';
import { iso } from '../base/common/time';
import type { StoredLease } from '../store';
import type { LeaseLifecycle } from './lease-lifecycle';
import { dropExpired } from './secret-versions';
import type { ServiceContext } from './service-context';
import { prunable } from './team/request-records';

/** Maintenance settings; both come from the environment of the daemon (see README). */
export interface MaintenanceOptions {
  /** How long ended leases, and decided or expired access requests, stay in the hot state. Default 30 days. */
  retentionMs: number;
  /** How many daily state snapshots to keep. Default 7. */
  backupsKept: number;
}

/** How long after listening {@link Maintenance.start} waits: the bench's probe and the CLI ask every 5–25 ms. */
export const START_DELAY_MS = 250;

/**
 * Scheduled housekeeping with node-cron: hourly, ended leases past retention move to the
 * archive, spent CI replay keys are dropped, decided access requests past retention are dropped,
 * and secrets in the trash past 30 days and earlier versions past their keep time are dropped; daily, a snapshot of the state file goes to
 * backups/. Jobs never overlap.
 */
export class Maintenance {
  private tasks: ScheduledTask[] = [];
  private starting: NodeJS.Timeout | null = null;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly lifecycle: LeaseLifecycle,
    private readonly options: MaintenanceOptions,
  ) {}

  /** Archive and snapshot once at start-up, in the background ({@link start}). */
  private async runStartupJobs(): Promise<void> {
    await this.job('archive ended leases', () => this.archiveEnded())();
    await this.job('drop spent CI replay keys', () => this.dropSpentReplays())();
    await this.job('drop decided access requests', () => this.dropDecidedRequests())();
    await this.job('drop expired history', () => this.dropExpiredHistory())();
    await this.job('start-up backup', () => this.backupIfStale())();
  }

  private job(name: string, fn: () => Promise<string>) {
    return async () => {
      try {
        this.ctx.log(`maintenance: ${name}: ${await fn()}`);
      } catch (err) {
        this.ctx.log(`maintenance: ${name} failed: ${(err as Error).message}`);
      }
    };
  }

  /**
   * Runs the start-up jobs and schedules the rest {@link START_DELAY_MS} after the daemon starts
   * listening, so the clients that waited for it are answered first: node-cron's first schedule
   * makes the process's first `Intl.DateTimeFormat` (~20 ms of CPU) and the first job scans every
   * lease. A daemon stopped before then runs neither.
   */
  start(): void {
    this.starting = setTimeout(() => {
      this.starting = null;
      void this.runStartupJobs();
      this.schedule();
    }, START_DELAY_MS).unref();
  }

  private schedule(): void {
    const logger = {
      info: () => undefined,
      debug: () => undefined,
      warn: (m: string) => this.ctx.log(`maintenance: ${m}`),
      error: (m: string | Error) => this.ctx.log(`maintenance: ${String(m)}`),
    };
    this.tasks = [
      cron.schedule(
        '7 * * * *',
        async () => {
          await this.job('archive ended leases', () => this.archiveEnded())();
          await this.job('drop spent CI replay keys', () => this.dropSpentReplays())();
          await this.job('drop decided access requests', () => this.dropDecidedRequests())();
          await this.job('drop expired history', () => this.dropExpiredHistory())();
        },
        {
          name: 'archive',
          noOverlap: true,
          unref: true,
          logger,
        },
      ),
      cron.schedule(
        '23 3 * * *',
        this.job('daily backup', () => this.backup()),
        {
          name: 'backup',
          noOverlap: true,
          unref: true,
          logger,
        },
      ),
    ];
  }

  /** Moves ended leases older than the retention period out of the state. */
  async archiveEnded(): Promise<string> {
    const cutoff = this.ctx.clock() - this.options.retentionMs;
    const old: StoredLease[] = [];
    for (const l of this.ctx.store.state.leases.rows()) {
      if (l.status !== 'active' && l.endedAt !== null && l.endedAt < cutoff) old.push(l.lease());
    }
    if (old.length === 0) return 'nothing to archive';
    // Archive first: a crash in between leaves a lease in both places, never in neither.
    await this.ctx.store.archive.append(old);
    await this.lifecycle.transact((_state, leases) => {
      leases.remove(old.map((l) => l.id));
      return { result: null };
    }, 'release');
    return `${old.length} ended leases archived`;
  }

  /** Drops the replay keys of CI JWTs that could no longer pass anyway (expired or too old). */
  async dropSpentReplays(): Promise<string> {
    const now = this.ctx.clock();
    const spent = [...this.ctx.store.state.ciReplays.values()].filter((r) => r.until <= now).map((r) => r.id);
    if (spent.length === 0) return 'no spent CI replay keys';
    await this.ctx.store.transact((state, touched) => {
      for (const id of spent) {
        state.ciReplays.delete(id);
        touched.record('ciReplay', id);
      }
      return { result: null, audit: [] };
    }, 'release');
    return `${spent.length} spent CI replay keys dropped`;
  }

  /**
   * Drops access requests decided (or expired) longer ago than the retention, each its own record
   * in one commit; the audit trail keeps who asked, who decided and why. Nothing to drop: no commit.
   */
  async dropDecidedRequests(): Promise<string> {
    const now = this.ctx.clock();
    const cutoff = now - this.options.retentionMs;
    const state = this.ctx.store.state;
    const old = [...state.accessRequests.values()].filter((r) => prunable(r, state, cutoff, now)).map((r) => r.id);
    if (old.length === 0) return 'no decided access requests past retention';
    await this.ctx.store.transact((s, touched) => {
      for (const id of old) {
        const r = s.accessRequests.get(id);
        if (!r || !prunable(r, s, cutoff, this.ctx.clock())) continue;
        s.accessRequests.delete(id);
        touched.record('accessRequest', id);
      }
      return { result: null, audit: [] };
    }, 'release');
    this.ctx.events.emit({ type: 'DataChanged', at: iso(this.ctx.clock()), resource: 'requests' });
    return `${old.length} decided access requests dropped`;
  }

  /** Drops secrets in the trash past 30 days (with their history) and earlier versions past their keep time. */
  async dropExpiredHistory(): Promise<string> {
    const out = await this.ctx.store.transact((state, touched) => {
      const expired = dropExpired(state, touched, this.ctx.clock());
      return {
        result: expired,
        audit: expired.purged.map((t) => ({
          event: 'SecretPurged' as const,
          outcome: 'Success' as const,
          actor: 'daemon' as const,
          project: t.project,
          environment: t.environment,
          keys: [t.key],
          message: 'its 30 days in the trash ended: the value and its history were destroyed',
        })),
      };
    }, 'release');
    for (const where of new Set(out.purged.map((t) => `${t.project}\0${t.environment}`))) {
      const [project, environment] = where.split('\0') as [string, string];
      this.ctx.events.emit({
        type: 'DataChanged',
        at: iso(this.ctx.clock()),
        resource: 'secrets',
        project,
        environment,
      });
    }
    return `${out.purged.length} secrets purged from the trash, ${out.versions} earlier versions dropped`;
  }

  async backup(): Promise<string> {
    return `snapshot ${await this.ctx.store.backup(this.options.backupsKept)}`;
  }

  /** At start-up: a snapshot unless one was taken in the last day, so a last good backup exists. */
  async backupIfStale(): Promise<string> {
    const newest = this.ctx.store.newestBackupTime();
    if (newest !== null && this.ctx.clock() - newest < 86_400_000) return 'a recent snapshot exists';
    return this.backup();
  }

  async stop(): Promise<void> {
    if (this.starting) clearTimeout(this.starting);
    this.starting = null;
    for (const task of this.tasks) await task.stop();
    this.tasks = [];
  }
}
