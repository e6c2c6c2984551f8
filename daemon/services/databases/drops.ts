import { BellaError } from '../../api';
import { iso } from '../../base/common/time';
import type { State, StoredDbLogin } from '../../store';
import type { ChannelsService } from '../channels';
import type { DesktopNotificationsService } from '../desktop-notifications';
import type { ServiceContext } from '../service-context';
import { findDatabase, type DatabasesService } from './databases';
import { pgError } from '../../store/postgres/pg';
import type { PostgresAdmin } from './postgres';

/** Drops run at most this many at once (a start-up after a long outage is rate-limited by it). */
const DROP_CONCURRENCY = 8;

/**
 * The durable queue of login roles to drop: every `dblogin` job in phase `dropping` whose time has
 * come is run (NOLOGIN, sessions ended, REASSIGN/DROP OWNED, DROP ROLE IF EXISTS) until the role is
 * gone, retried with backoff; the first failure is told to the trail, channels and the desktop.
 */
export class DropQueue {
  private draining = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly waiters = new Map<string, Array<() => void>>();

  constructor(
    private readonly ctx: ServiceContext,
    private readonly databases: DatabasesService,
    private readonly pg: PostgresAdmin,
    private readonly channels: ChannelsService,
    private readonly desktop: DesktopNotificationsService,
    private readonly retryMaxMs: number,
  ) {}

  /** Runs the due drops now (after a commit ended leases, at start, at a retry's time). */
  kick(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = true;
    void this.drain()
      .catch((err) => this.ctx.log(`database logins: ${String(err)}`))
      .finally(() => {
        this.draining = false;
        this.scheduleNext();
      });
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      const now = this.ctx.clock();
      const due = [...this.ctx.store.state.dbLogins.values()]
        .filter((l) => l.phase === 'dropping' && (l.nextAttemptAt ?? 0) <= now)
        .map((l) => l.id);
      // A few workers take the due drops in turn (a slow one does not hold the others back).
      const worker = async () => {
        for (let user = due.shift(); user !== undefined && !this.stopped; user = due.shift()) await this.dropOne(user);
      };
      await Promise.all(Array.from({ length: Math.min(DROP_CONCURRENCY, due.length) }, worker));
    } while (this.again && !this.stopped);
  }

  private scheduleNext(): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    let next = Infinity;
    for (const l of this.ctx.store.state.dbLogins.values())
      if (l.phase === 'dropping') next = Math.min(next, l.nextAttemptAt ?? 0);
    if (next === Infinity) return;
    // Still due right after a drain means its outcome could not be committed: not before a second.
    const now = this.ctx.clock();
    this.timer = setTimeout(() => this.kick(), next <= now ? 1000 : next - now);
    this.timer.unref();
  }

  private async dropOne(user: string): Promise<void> {
    const state = this.ctx.store.state;
    const login = state.dbLogins.get(user);
    if (!login || login.phase !== 'dropping') return;
    const where = this.whereOf(state, login);
    let error: string | null = null;
    let existed = false;
    try {
      const db = findDatabase(state, login.database);
      existed = await this.pg.dropLogin(this.databases.adminUrl(state, db), user);
    } catch (err) {
      error = err instanceof BellaError ? err.message : pgError(err);
    }
    if (error === null) {
      await this.ctx.store.transact((s, touched) => {
        s.dbLogins.delete(user);
        touched.record('dblogin', user);
        return {
          result: null,
          audit: [
            {
              event: 'CredentialRevoked',
              outcome: 'Success',
              actor: 'daemon',
              ...where,
              leaseId: login.leaseId,
              message: existed
                ? `login role ${user} dropped from ${login.database} (sessions ended)`
                : `login role ${user} was not in ${login.database} (never created, or dropped before)`,
            },
          ],
        };
      }, 'release');
      this.settle(user);
      return;
    }
    const first = login.attempts === 0;
    await this.ctx.store.transact((s, touched) => {
      const current = s.dbLogins.get(user);
      if (!current) return { result: null, audit: [] };
      current.attempts += 1;
      current.lastError = error;
      current.nextAttemptAt =
        this.ctx.clock() + Math.min(this.retryMaxMs, 1000 * 2 ** Math.min(current.attempts - 1, 20));
      touched.record('dblogin', user);
      // The first failure is told everywhere; later ones only every 10th attempt (the trail stays bounded).
      if (first)
        this.channels.fanOut(s, touched, [
          {
            type: 'CredentialRevokeFailed',
            at: this.ctx.clock(),
            data: { ...where, leaseIds: [login.leaseId], database: login.database, user, error: error! },
          },
        ]);
      return {
        result: null,
        audit:
          first || current.attempts % 10 === 0
            ? [
                {
                  event: 'CredentialRevokeFailed',
                  outcome: 'Success',
                  actor: 'daemon',
                  ...where,
                  leaseId: login.leaseId,
                  message: `attempt ${current.attempts}: login role ${user} in ${login.database} not dropped: ${error}; retrying at ${iso(current.nextAttemptAt)}`,
                },
              ]
            : [],
      };
    }, 'release');
    this.channels.committed();
    if (first)
      this.desktop.send(
        `A database login of ${where.project}/${where.environment} could not be dropped`,
        `${user} in ${login.database}: ${error}. bella keeps retrying; VALID UNTIL refuses its logins meanwhile.`,
        where,
      );
    this.ctx.log(`database login ${user} not dropped (attempt ${login.attempts}): ${error}`);
  }

  private whereOf(state: State, login: StoredDbLogin): { project: string; environment: string } {
    const db = state.databases.get(login.database);
    return { project: db?.project ?? '-', environment: db?.environment ?? '-' };
  }

  private settle(user: string): void {
    for (const resolve of this.waiters.get(user) ?? []) resolve();
    this.waiters.delete(user);
  }

  /** Waits up to `ms` for a login to be dropped; true when it is gone. */
  async waitDropped(user: string, ms: number): Promise<boolean> {
    if (!this.ctx.store.state.dbLogins.has(user)) return true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      const list = this.waiters.get(user) ?? [];
      list.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.waiters.set(user, list);
    });
    return !this.ctx.store.state.dbLogins.has(user);
  }

  /** `leases revoke --force`: gives up dropping a login role, audited with what is left to do by hand. */
  async abandon(user: string): Promise<void> {
    await this.ctx.store.transact((s, touched) => {
      const login = s.dbLogins.get(user);
      if (!login) return { result: null, audit: [] };
      s.dbLogins.delete(user);
      touched.record('dblogin', user);
      return {
        result: null,
        audit: [
          {
            event: 'CredentialRevokeAbandoned',
            outcome: 'Success',
            actor: 'owner',
            ...this.whereOf(s, login),
            leaseId: login.leaseId,
            message: `gave up dropping login role ${user} in ${login.database} after ${login.attempts} attempts (${login.lastError ?? 'not attempted'}); its VALID UNTIL still refuses logins; drop it by hand: DROP ROLE ${user}`,
          },
        ],
      };
    }, 'release');
    this.settle(user);
  }

  /** Logins failing to drop, for `daemon status`. */
  problems(): string[] {
    return [...this.ctx.store.state.dbLogins.values()]
      .filter((l) => l.phase === 'dropping' && l.lastError)
      .map(
        (l) =>
          `database login ${l.id} (lease ${l.leaseId}) in ${l.database} not dropped after ${l.attempts} attempt${l.attempts > 1 ? 's' : ''}: ${l.lastError}`,
      );
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
