import type { RouteSpec } from './routes';

// Databases (issue 19): a PostgreSQL admin URL, sealed, and named roles (sets of existing NOLOGIN
// group roles). A lease with `--db DB:ROLE` gets a login role of its own, dropped when it ends.
// The routes sit here, spread into the contract by routes.ts; their input schemas are in
// database-inputs.ts.

/** A role of a database: the NOLOGIN group roles a lease's login role is made a member of. */
export interface DatabaseRole {
  name: string;
  memberOf: string[];
}

/** A login role bella created and has not dropped yet, as `databases list` shows it. */
export interface DatabaseCredential {
  /** The Postgres role's name (`bella_…`). */
  user: string;
  leaseId: string;
  role: string;
  /** `creating`: committed, CREATE ROLE not yet confirmed; `live`; `dropping`: the lease ended. */
  phase: 'creating' | 'live' | 'dropping';
  attempts: number;
  /** The last failure to drop it (or to create it), for people; null when none. */
  lastError: string | null;
  /** ISO 8601: the next attempt, while dropping. */
  nextAttemptAt: string | null;
}

/** A database, as listed: never its URL (only where it points, without the password). */
export interface Database {
  name: string;
  project: string;
  environment: string;
  /** `HOST:PORT/DBNAME`. */
  target: string;
  /** The admin user bella connects as. */
  adminUser: string;
  /** The key a lease of it gets, e.g. `PG_PROD_URL`. */
  key: string;
  roles: DatabaseRole[];
  /** Login roles not dropped yet; those failing to drop carry `lastError`. */
  credentials: DatabaseCredential[];
  createdAt: string;
}

/** `pg-prod` -> `PG_PROD_URL`: the key a lease of the database gets. */
export function databaseKey(name: string): string {
  return `${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URL`;
}

function route<O>() {
  return <P extends 'admin' | 'token'>(spec: Omit<RouteSpec<O>, 'output' | 'plane'> & { plane: P }) =>
    spec as RouteSpec<O> & { plane: P };
}

/** The database routes of the contract. */
export const databaseRoutes = {
  listDatabases: route<{ databases: Database[] }>()({
    method: 'GET',
    path: '/v1/databases',
    plane: 'admin',
    summary: 'List the databases, their roles and the login roles not dropped yet',
  }),
  addDatabase: route<{ database: Database; superuser: boolean }>()({
    method: 'POST',
    path: '/v1/databases',
    plane: 'admin',
    summary: 'Add a PostgreSQL database by its admin URL (checked at once, sealed)',
  }),
  removeDatabase: route<{ removed: string }>()({
    method: 'DELETE',
    path: '/v1/databases/:name',
    plane: 'admin',
    summary: 'Remove a database (refused while leases of it hold login roles)',
  }),
  addDatabaseRole: route<{ database: string; role: DatabaseRole }>()({
    method: 'POST',
    path: '/v1/databases/:database/roles',
    plane: 'admin',
    summary: 'Add a role: the existing NOLOGIN group roles a lease’s login role joins',
  }),
  removeDatabaseRole: route<{ database: string; removed: string }>()({
    method: 'DELETE',
    path: '/v1/databases/:database/roles/:role',
    plane: 'admin',
    summary: 'Remove a role of a database',
  }),
} as const;
