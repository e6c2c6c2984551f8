import { randomBytes } from 'node:crypto';
import { BellaError, databaseKey } from '../../api';
import { iso } from '../../base/common/time';
import {
  databaseUrlAad,
  type State,
  type StoredDbLogin,
  type StoredEnvironment,
  type StoredLease,
  type Touched,
} from '../../store';
import type { ChannelsService } from '../channels';
import type { DesktopNotificationsService } from '../desktop-notifications';
import type { LeaseLifecycle } from '../lease-lifecycle';
import type { SecretsService } from '../secrets';
import type { ServiceContext } from '../service-context';
import { findDatabase, type DatabasesService } from './databases';
import { pgError, type PostgresAdmin } from './postgres';

/**
 * VALID UNTIL is the lease's expiry plus this grace: Postgres refuses the role's logins on its own
 * from then on, even if bella is down, and a few seconds of clock skew between the two machines
 * do not cut a lease short.
 */
export const VALID_UNTIL_GRACE_MS = 5000;
/** Drops run at most this many at once (a start-up after a long outage is rate-limited by it). */
const DROP_CONCURRENCY = 8;

/** Options of the login engine. */
export interface DbLoginOptions {
  /** The longest wait between two drop attempts (backoff doubles from 1 s up to it). */
  retryMaxMs?: number;
}

/** What an issue with `--db` will create once its lease is committed. */
export interface LoginPlan {
  database: string;
  role: string;
  user: string;
  key: string;
  groups: string[];
  password: string;
  url: string;
}

/** The database and role `DB:ROLE` names, for a lease of `project/environment`; refused otherwise. */
export function resolveDbRef(state: State, ref: string, project: string, environment: string) {
  const [name, roleName] = ref.split(':') as [string, string];
  const db = findDatabase(state, name);
  if (db.project !== project || db.environment !== environment)
    throw new BellaError(
      'invalid_argument',
      `database ${db.id} belongs to ${db.project}/${db.environment}, not ${project}/${environment}`,
    );
  const role = db.roles.find((r) => r.name === roleName);
  if (!role)
    throw new BellaError(
      'not_found',
      `${db.id} has no role ${roleName}; ${db.roles.length ? `its roles: ${db.roles.map((r) => r.name).join(', ')}` : 'add one: bella databases roles add DB ROLE --member-of GROUP'}`,
    );
  return { db, role };
}

/**
 * Login roles per lease: the "drop this role" job is committed with the lease, before CREATE ROLE;
 * when the lease ends the job is due and runs (retried with backoff) until the role is gone or the
 * owner gives up (`leases revoke --force`). Every step is safe to repeat after a crash.
 */
export class DbLogins {
  private lifecycle: LeaseLifecycle | undefined;
  private draining = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly waiters = new Map<string, Array<() => void>>();
  private readonly retryMaxMs: number;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly secrets: SecretsService,
    private readonly databases: DatabasesService,
    private readonly pg: PostgresAdmin,
    private readonly channels: ChannelsService,
    private readonly desktop: DesktopNotificationsService,
    options: DbLoginOptions = {},
  ) {
    this.retryMaxMs = options.retryMaxMs ?? 60_000;
  }

  /** The lifecycle revokes a lease whose login could not be made (set once, after both exist). */
  attachLifecycle(lifecycle: LeaseLifecycle): void {
    this.lifecycle = lifecycle;
    lifecycle.onLoginsEnded(() => this.kick());
  }

  /** Checks `DB:ROLE` for a lease of `project/environment` and makes its name and password. */
  plan(state: State, ref: string, project: string, environment: string): Omit<LoginPlan, 'user' | 'url'> {
    const { db, role } = resolveDbRef(state, ref, project, environment);
    return {
      database: db.id,
      role: role.name,
      key: databaseKey(db.id),
      groups: [...role.memberOf],
      password: randomBytes(24).toString('base64url'),
    };
  }

  /** Inside the issue's transaction: the lease's URL (sealed) and the drop job, in one commit. */
  attach(
    state: State,
    touched: Touched,
    lease: StoredLease,
    env: StoredEnvironment,
    plan: Omit<LoginPlan, 'user' | 'url'>,
  ): LoginPlan {
    const db = findDatabase(state, plan.database);
    const user = `bella_${lease.id}`;
    const url = new URL(this.databases.adminUrl(state, db));
    url.username = user;
    url.password = plan.password;
    const full: LoginPlan = { ...plan, user, url: url.toString() };
    lease.database = {
      name: db.id,
      role: plan.role,
      user,
      key: plan.key,
      sealedUrl: this.secrets.sealOther(
        lease.project,
        lease.environment,
        env,
        databaseUrlAad(lease.project, lease.environment, db.id, lease.id),
        full.url,
      ),
    };
    const login: StoredDbLogin = {
      id: user,
      database: db.id,
      role: plan.role,
      leaseId: lease.id,
      phase: 'creating',
      attempts: 0,
      lastError: null,
      nextAttemptAt: null,
      createdAt: this.ctx.clock(),
    };
    state.dbLogins.set(user, login);
    touched.record('dblogin', user);
    return full;
  }

  /**
   * After the commit: CREATE ROLE, then the job is marked live. If Postgres refuses, the lease is
   * revoked (its job then drops whatever may exist) and the caller told why.
   */
  async create(lease: StoredLease, plan: LoginPlan): Promise<void> {
    const state = this.ctx.store.state;
    try {
      const db = findDatabase(state, plan.database);
      await this.pg.createLogin(this.databases.adminUrl(state, db), {
        user: plan.user,
        password: plan.password,
        validUntil: lease.expiresAt + VALID_UNTIL_GRACE_MS,
        groups: plan.groups,
      });
    } catch (err) {
      const reason = `could not create its login role in ${plan.database}: ${pgError(err)}`;
      await this.revokeLease(lease.id, reason);
      throw new BellaError('unavailable', `lease ${lease.id} was revoked: ${reason}`);
    }
    let endedMeanwhile = false;
    await this.ctx.store.transact((s, touched) => {
      const login = s.dbLogins.get(plan.user);
      if (login?.phase === 'creating') login.phase = 'live';
      else {
        // The lease ended while CREATE ROLE ran (its drop may have found nothing yet): drop again.
        endedMeanwhile = true;
        s.dbLogins.set(plan.user, {
          id: plan.user,
          database: plan.database,
          role: plan.role,
          leaseId: lease.id,
          phase: 'dropping',
          attempts: login?.attempts ?? 0,
          lastError: login?.lastError ?? null,
          nextAttemptAt: this.ctx.clock(),
          createdAt: login?.createdAt ?? this.ctx.clock(),
        });
      }
      touched.record('dblogin', plan.user);
      return {
        result: null,
        audit: [
          {
            event: 'CredentialCreated',
            outcome: 'Success',
            actor: 'daemon',
            project: lease.project,
            environment: lease.environment,
            leaseId: lease.id,
            keys: [plan.key],
            message: `login role ${plan.user} in ${plan.database} (role ${plan.role}: ${plan.groups.join(', ')}), valid until ${iso(lease.expiresAt + VALID_UNTIL_GRACE_MS)}`,
          },
        ],
      };
    });
    if (endedMeanwhile) this.kick();
  }

  private async revokeLease(leaseId: string, reason: string): Promise<void> {
    await this.lifecycle!.transact((s, changes) => {
      const lease = s.leases.get(leaseId);
      if (lease && lease.status === 'active') changes.end(lease, 'revoked', reason, 'daemon');
      return { result: null };
    }, 'release');
  }

  /** The lease's connection URL, for its token's read. */
  url(lease: StoredLease, env: StoredEnvironment): string {
    const d = lease.database!;
    return this.secrets.openOther(
      lease.project,
      lease.environment,
      env,
      databaseUrlAad(lease.project, lease.environment, d.name, lease.id),
      d.sealedUrl,
    );
  }

  /** A renewal: VALID UNTIL follows the new expiry. Returns a warning when Postgres could not be told. */
  async extend(lease: StoredLease): Promise<string | undefined> {
    const d = lease.database;
    const login = d && this.ctx.store.state.dbLogins.get(d.user);
    if (!d || !login || login.phase !== 'live') return undefined;
    try {
      const db = findDatabase(this.ctx.store.state, d.name);
      await this.pg.setValidUntil(
        this.databases.adminUrl(this.ctx.store.state, db),
        d.user,
        lease.expiresAt + VALID_UNTIL_GRACE_MS,
      );
      return undefined;
    } catch (err) {
      return `the login role ${d.user} keeps its earlier VALID UNTIL: ${pgError(err)}; renew again once ${d.name} answers`;
    }
  }

  /**
   * At start-up: a login whose CREATE ROLE was never confirmed belongs to an issue that was never
   * answered, so its lease is revoked (and the role, if it was made, dropped); then every due drop
   * (leases that ended while bella was down) runs.
   */
  async start(): Promise<void> {
    const creating = [...this.ctx.store.state.dbLogins.values()].filter((l) => l.phase === 'creating');
    if (creating.length) {
      await this.lifecycle!.transact((s, changes, touched) => {
        for (const login of creating) {
          const lease = s.leases.get(login.leaseId);
          if (lease && lease.status === 'active')
            changes.end(lease, 'revoked', 'bella stopped before its database login role was confirmed', 'daemon');
          else {
            // Its lease ended (or left the hot state) without turning the job: it is due all the same.
            login.phase = 'dropping';
            login.nextAttemptAt = changes.now;
            touched.record('dblogin', login.id);
          }
        }
        return { result: null };
      }, 'release');
    }
    this.kick();
  }

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
