import { BellaError, databaseKey, type Database, type OperationArgs, type OperationOutput } from '../../api';
import { iso } from '../../base/common/time';
import { databaseUrlAad, type State, type StoredDatabase, type StoredDbLogin, type Touched } from '../../store';
import { findEnvironment } from '../lookup';
import type { SecretsService } from '../secrets';
import type { ServiceContext } from '../service-context';
import { pgError } from '../../store/postgres/pg';
import type { PostgresAdmin } from './postgres';

/** The database as listed: where it points and who bella is there, never the URL's password. */
function toDatabase(db: StoredDatabase, logins: StoredDbLogin[]): Database {
  return {
    name: db.id,
    project: db.project,
    environment: db.environment,
    target: db.target,
    adminUser: db.adminUser,
    key: databaseKey(db.id),
    roles: db.roles.map((r) => ({ name: r.name, memberOf: [...r.memberOf] })),
    credentials: logins.map((l) => ({
      user: l.id,
      leaseId: l.leaseId,
      role: l.role,
      phase: l.phase,
      attempts: l.attempts,
      lastError: l.lastError,
      nextAttemptAt: l.phase === 'dropping' && l.nextAttemptAt !== null ? iso(l.nextAttemptAt) : null,
    })),
    createdAt: iso(db.createdAt),
  };
}

/** A database by name, or a not_found naming the others. */
export function findDatabase(state: State, name: string): StoredDatabase {
  const db = state.databases.get(name);
  if (db) return db;
  const names = [...state.databases.keys()];
  throw new BellaError(
    'not_found',
    `no database ${name}; ${names.length ? `the databases: ${names.join(', ')}` : 'there are none yet (bella databases add NAME -p P -e E --url postgres://…)'}`,
  );
}

/**
 * Deleting a project or environment that holds databases is refused, even with --force: their
 * admin URLs are sealed with its data key, and the login roles of its leases still to be dropped
 * need them.
 */
export function refuseWhileDatabases(state: State, project: string, environment?: string): void {
  const names = [...state.databases.values()]
    .filter((d) => d.project === project && (environment === undefined || d.environment === environment))
    .map((d) => d.id);
  if (names.length)
    throw new BellaError(
      'conflict',
      `${environment ? `${project}/${environment}` : project} holds database${names.length > 1 ? 's' : ''} ${names.join(', ')}: remove ${names.length > 1 ? 'them' : 'it'} first (bella databases remove NAME, once its leases ended)`,
    );
}

/** A database (or one role of it) named by a CI trust's `--db` is kept until the trust is removed. */
function refuseWhileTrusted(state: State, database: string, role?: string): void {
  const trusts = (state.settings.ciTrusts ?? []).filter(
    (t) => t.db !== undefined && (role ? t.db === `${database}:${role}` : t.db.startsWith(`${database}:`)),
  );
  if (trusts.length)
    throw new BellaError(
      'conflict',
      `CI trust ${trusts.map((t) => t.name).join(', ')} uses ${role ? `${database}:${role}` : database}: remove it first (bella ci trust remove NAME)`,
    );
}

/** Databases as their owner manages them (admin plane): added, listed, removed, their roles. */
export class DatabasesService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly secrets: SecretsService,
    private readonly pg: PostgresAdmin,
  ) {}

  /** A database's admin URL, opened with its environment's data key. */
  adminUrl(state: State, db: StoredDatabase): string {
    const env = findEnvironment(state, db.project, db.environment);
    return this.secrets.openOther(
      db.project,
      db.environment,
      env,
      databaseUrlAad(db.project, db.environment, db.id),
      db.sealedUrl,
    );
  }

  list(): OperationOutput<'listDatabases'> {
    const state = this.ctx.store.state;
    const logins = [...state.dbLogins.values()];
    return {
      databases: [...state.databases.values()]
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .map((db) =>
          toDatabase(
            db,
            logins.filter((l) => l.database === db.id),
          ),
        ),
    };
  }

  /** Adds a database once its URL connects and may create roles; the URL is sealed, never shown again. */
  async add(args: OperationArgs<'addDatabase'>): Promise<OperationOutput<'addDatabase'>> {
    findEnvironment(this.ctx.store.state, args.project, args.environment);
    if (this.ctx.store.state.databases.has(args.name))
      throw new BellaError(
        'conflict',
        `a database named ${args.name} exists: remove it first (bella databases remove ${args.name})`,
      );
    const url = new URL(args.url);
    if (!url.password)
      throw new BellaError(
        'invalid_argument',
        'give the admin password in --url: postgres://ADMIN:PASSWORD@HOST:PORT/DBNAME',
      );
    let check;
    try {
      check = await this.pg.checkAdmin(args.url);
    } catch (err) {
      throw new BellaError('invalid_argument', `cannot connect with --url (${url.host}): ${pgError(err)}`);
    }
    if (!check.superuser && !check.createRole)
      throw new BellaError(
        'permission_denied',
        `${check.user} may not create roles in ${url.host}/${check.database}: use an admin with CREATEROLE (ALTER ROLE ${check.user} CREATEROLE) or a superuser`,
      );
    const target = `${url.host}/${check.database}`;
    return this.ctx.store.transact((state, touched) => {
      const env = findEnvironment(state, args.project, args.environment);
      if (state.databases.has(args.name))
        throw new BellaError(
          'conflict',
          `a database named ${args.name} exists: remove it first (bella databases remove ${args.name})`,
        );
      const db: StoredDatabase = {
        id: args.name,
        project: args.project,
        environment: args.environment,
        sealedUrl: this.secrets.sealOther(
          args.project,
          args.environment,
          env,
          databaseUrlAad(args.project, args.environment, args.name),
          args.url,
        ),
        target,
        adminUser: check.user,
        roles: [],
        createdAt: this.ctx.clock(),
      };
      state.databases.set(db.id, db);
      touched.record('database', db.id);
      return {
        result: { database: toDatabase(db, []), superuser: check.superuser },
        audit: [
          {
            event: 'DatabaseAdded',
            outcome: 'Success',
            actor: 'owner',
            project: args.project,
            environment: args.environment,
            message: `database ${db.id}: ${target} as ${check.user}${check.superuser ? ' (superuser)' : ' (CREATEROLE)'}`,
          },
        ],
      };
    });
  }

  /** Removes a database; refused while login roles of it are not dropped yet. */
  async remove(args: OperationArgs<'removeDatabase'>): Promise<OperationOutput<'removeDatabase'>> {
    const out = await this.ctx.store.transact((state, touched) => {
      const db = findDatabase(state, args.name);
      const logins = [...state.dbLogins.values()].filter((l) => l.database === db.id);
      if (logins.length)
        throw new BellaError(
          'conflict',
          `${db.id} still has ${logins.length} login role${logins.length > 1 ? 's' : ''} bella has not dropped (${logins.map((l) => l.id).join(', ')}): revoke their leases first (bella leases revoke ID, --force to give up)`,
        );
      refuseWhileTrusted(state, db.id);
      const url = this.adminUrl(state, db);
      state.databases.delete(db.id);
      touched.record('database', db.id);
      return {
        result: { removed: db.id, url },
        audit: [
          {
            event: 'DatabaseRemoved',
            outcome: 'Success',
            actor: 'owner',
            project: db.project,
            environment: db.environment,
            message: `database ${db.id} (${db.target})`,
          },
        ],
      };
    }, 'release');
    await this.pg.forget(out.url);
    return { removed: out.removed };
  }

  /** Adds a role once every group exists in Postgres and cannot log in. */
  async addRole(args: OperationArgs<'addDatabaseRole'>): Promise<OperationOutput<'addDatabaseRole'>> {
    const state = this.ctx.store.state;
    const db = findDatabase(state, args.database);
    if (db.roles.some((r) => r.name === args.role))
      throw new BellaError(
        'conflict',
        `${db.id} has a role ${args.role}: remove it first (bella databases roles remove ${db.id} ${args.role})`,
      );
    const groups = [...new Set(args.memberOf)];
    let found;
    try {
      found = await this.pg.groups(this.adminUrl(state, db), groups);
    } catch (err) {
      throw new BellaError('unavailable', `cannot reach ${db.id} (${db.target}) to check the groups: ${pgError(err)}`);
    }
    const missing = groups.filter((g) => !found.has(g));
    if (missing.length)
      throw new BellaError(
        'invalid_argument',
        `no role ${missing.join(', ')} in ${db.target}: create the group first (CREATE ROLE name NOLOGIN, then GRANT it its privileges)`,
      );
    const login = groups.filter((g) => found.get(g)!.canLogin);
    if (login.length)
      throw new BellaError(
        'invalid_argument',
        `${login.join(', ')} can log in: --member-of takes NOLOGIN group roles only (a lease must not gain another login's identity)`,
      );
    return this.ctx.store.transact((state2, touched) => {
      const current = findDatabase(state2, args.database);
      if (current.roles.some((r) => r.name === args.role))
        throw new BellaError('conflict', `${current.id} has a role ${args.role}`);
      const role = { name: args.role, memberOf: groups };
      current.roles = [...current.roles, role].sort((a, b) => (a.name < b.name ? -1 : 1));
      touched.record('database', current.id);
      return {
        result: { database: current.id, role },
        audit: [
          {
            event: 'DatabaseRoleAdded',
            outcome: 'Success',
            actor: 'owner',
            project: current.project,
            environment: current.environment,
            message: `database ${current.id}: role ${role.name} = member of ${groups.join(', ')}`,
          },
        ],
      };
    });
  }

  /** Removes a role: new leases cannot name it; login roles already made keep their groups until they end. */
  async removeRole(args: OperationArgs<'removeDatabaseRole'>): Promise<OperationOutput<'removeDatabaseRole'>> {
    return this.ctx.store.transact((state, touched) => {
      const db = findDatabase(state, args.database);
      if (!db.roles.some((r) => r.name === args.role))
        throw new BellaError(
          'not_found',
          `${db.id} has no role ${args.role}; ${db.roles.length ? `its roles: ${db.roles.map((r) => r.name).join(', ')}` : 'it has none (bella databases roles add)'}`,
        );
      refuseWhileTrusted(state, db.id, args.role);
      db.roles = db.roles.filter((r) => r.name !== args.role);
      touched.record('database', db.id);
      return {
        result: { database: db.id, removed: args.role },
        audit: [
          {
            event: 'DatabaseRoleRemoved',
            outcome: 'Success',
            actor: 'owner',
            project: db.project,
            environment: db.environment,
            message: `database ${db.id}: role ${args.role}`,
          },
        ],
      };
    }, 'release');
  }

  /** The admin URLs of an environment's databases, before its data key is rotated (expire-all). */
  openUrls(state: State, project: string, environment: string): Map<string, string> {
    const urls = new Map<string, string>();
    for (const db of state.databases.values())
      if (db.project === project && db.environment === environment) urls.set(db.id, this.adminUrl(state, db));
    return urls;
  }

  /** Seals the URLs {@link openUrls} returned again, with the environment's new data key. */
  resealUrls(state: State, touched: Touched, urls: Map<string, string>): void {
    for (const [name, url] of urls) {
      const db = state.databases.get(name)!;
      const env = findEnvironment(state, db.project, db.environment);
      db.sealedUrl = this.secrets.sealOther(
        db.project,
        db.environment,
        env,
        databaseUrlAad(db.project, db.environment, db.id),
        url,
      );
      touched.record('database', db.id);
    }
  }
}
