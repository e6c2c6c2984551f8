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
import type { LeaseChanges } from '../lease-changes';
import type { LeaseLifecycle } from '../lease-lifecycle';
import { findScopedEnvironment } from '../lookup';
import type { SecretsService } from '../secrets';
import type { ServiceContext } from '../service-context';
import { findDatabase, type DatabasesService } from './databases';
import { DropQueue } from './drops';
import { pgError } from '../../store/postgres/pg';
import type { PostgresAdmin } from './postgres';

/**
 * VALID UNTIL is the lease's expiry plus this grace: Postgres refuses the role's logins on its own
 * from then on, even if bella is down, and a few seconds of clock skew between the two machines
 * do not cut a lease short.
 */
export const VALID_UNTIL_GRACE_MS = 5000;

/** What a lease is issued with: `LeaseChanges.issue`'s arguments. */
type IssueArgs = Parameters<LeaseChanges['issue']>[1];

/** How long a token's handover waits for its login role's CREATE ROLE (see {@link DbLogins.settled}). */
const SETTLE_MS = 15_000;

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
  /** The drops due, run and retried. */
  private readonly drops: DropQueue;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly secrets: SecretsService,
    private readonly databases: DatabasesService,
    private readonly pg: PostgresAdmin,
    channels: ChannelsService,
    desktop: DesktopNotificationsService,
    options: DbLoginOptions = {},
  ) {
    this.drops = new DropQueue(ctx, databases, pg, channels, desktop, options.retryMaxMs ?? 60_000);
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

  /**
   * Inside an issue's transaction: the lease, with `db`'s login role when one is named (its key
   * added to the scope, its URL and drop job in this same commit: durable first). The caller runs
   * {@link create} with the plan once the transaction committed.
   */
  issue(
    state: State,
    changes: LeaseChanges,
    touched: Touched,
    args: IssueArgs & { db?: string | undefined },
  ): ReturnType<LeaseChanges['issue']> & { login: LoginPlan | undefined } {
    const { db, ...spec } = args;
    const plan = db ? this.plan(state, db, spec.project, spec.environment) : undefined;
    const scope = plan ? spec.scope.filter((k) => k !== plan.key) : spec.scope;
    const env = findScopedEnvironment(state, spec.project, spec.environment, scope);
    const issued = changes.issue(env, { ...spec, scope: plan ? [...scope, plan.key] : scope });
    return { ...issued, login: plan && this.attach(state, touched, issued.lease, env, plan) };
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

  /**
   * Waits (bounded) while the login role of `lease` is being created, so that a token handed over
   * later than its issue (an approved request's) never carries a URL whose role does not exist yet.
   */
  async settled(lease: StoredLease | undefined): Promise<void> {
    const user = lease?.database?.user;
    for (let waited = 0; user && waited < SETTLE_MS; waited += 50) {
      if (this.ctx.store.state.dbLogins.get(user)?.phase !== 'creating') return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
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
    this.drops.kick();
  }

  /** Waits up to `ms` for a login to be dropped; true when it is gone. */
  waitDropped(user: string, ms: number): Promise<boolean> {
    return this.drops.waitDropped(user, ms);
  }

  /** `leases revoke --force`: gives up dropping a login role, audited with what is left to do by hand. */
  abandon(user: string): Promise<void> {
    return this.drops.abandon(user);
  }

  /** Logins failing to drop, for `daemon status`. */
  problems(): string[] {
    return this.drops.problems();
  }

  stop(): void {
    this.drops.stop();
  }
}
