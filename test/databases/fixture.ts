import { spawn, type ChildProcess } from 'node:child_process';
import { BellaSandbox, waitFor } from '../helpers/cli';
import { startPostgres, type PgCluster } from '../helpers/postgres';

// One private PostgreSQL cluster and one bella sandbox per test file: a table `orders` readable by
// the NOLOGIN group `app_read`, a login role `app_user` (a group must not be one), and a
// CREATEROLE admin that is not superuser (what a careful owner gives bella).

/** What a database test file works with. */
export interface DbFixture {
  pg: PgCluster;
  bella: BellaSandbox;
  /** The CREATEROLE admin's URL (not superuser). */
  adminUrl: string;
  /** Issues a lease of my-api/prod with `--db pg-prod:readonly`; returns its token and id. */
  issue(extra?: string[]): Promise<{ token: string; leaseId: string; user: string }>;
  /** The lease's PG_PROD_URL, read with its token through the token plane. */
  urlOf(token: string): Promise<string>;
  /** Whether a role exists in pg_roles. */
  roleExists(user: string): boolean;
  /** A psql session kept open (`SELECT pg_sleep(600)`) as the lease's login. */
  openSession(url: string): ChildProcess;
}

export async function setUpDatabase(): Promise<DbFixture> {
  const pg = await startPostgres();
  pg.sql(`
    CREATE ROLE bella_owner LOGIN CREATEROLE PASSWORD 'owner-pw-1';
    CREATE ROLE app_read NOLOGIN;
    CREATE ROLE app_user LOGIN PASSWORD 'x';
    CREATE TABLE orders (id int, item text);
    INSERT INTO orders VALUES (1, 'book'), (2, 'lamp');
    GRANT SELECT ON orders TO app_read;
    GRANT app_read TO bella_owner WITH ADMIN OPTION;
  `);
  const bella = new BellaSandbox();
  await bella.ok(['projects', 'create', '--name', 'My API', '--slug', 'my-api']);
  await bella.ok(['environments', 'create', '--project', 'my-api', '--name', 'Prod', '--slug', 'prod']);
  await bella.ok(['secrets', 'set', 'API_KEY', 'k-123', '-p', 'my-api', '-e', 'prod']);
  const adminUrl = pg.url('postgres', 'bella_owner', 'owner-pw-1');
  const fixture: DbFixture = {
    pg,
    bella,
    adminUrl,
    async issue(extra = []) {
      const res = await bella.json<{ token: string; lease: { id: string; database: { user: string } } }>([
        'leases',
        'issue',
        '-p',
        'my-api',
        '-e',
        'prod',
        '--db',
        'pg-prod:readonly',
        '--reason',
        'db test',
        ...extra,
      ]);
      return { token: res.token, leaseId: res.lease.id, user: res.lease.database.user };
    },
    async urlOf(token) {
      return bella.ok(['run', '--token', token, '--', 'sh', '-c', 'printf %s "$PG_PROD_URL"']);
    },
    roleExists: (user) => pg.sql(`SELECT count(*) FROM pg_roles WHERE rolname = '${user}'`).trim() === '1',
    openSession(url) {
      return spawn('psql', ['-X', '-At', url, '-c', 'SELECT pg_sleep(600)'], { stdio: ['ignore', 'pipe', 'pipe'] });
    },
  };
  return fixture;
}

/** Waits until a role is gone from pg_roles (bounded; no timing asserted). */
export function roleGone(f: DbFixture, user: string, timeoutMs = 20_000): Promise<boolean> {
  return waitFor(() => !f.roleExists(user), `role ${user} to be dropped`, timeoutMs);
}

/** Adds pg-prod (the CREATEROLE admin) and its role `readonly` = app_read. */
export async function addDatabase(f: DbFixture): Promise<void> {
  await f.bella.ok(['databases', 'add', 'pg-prod', '-p', 'my-api', '-e', 'prod', '--url', f.adminUrl]);
  await f.bella.ok(['databases', 'roles', 'add', 'pg-prod', 'readonly', '--member-of', 'app_read']);
}

/** Stops the sandbox and the cluster, whatever failed. */
export async function tearDown(f: DbFixture | undefined): Promise<void> {
  if (!f) return;
  try {
    await f.bella.stop();
  } finally {
    f.pg.destroy();
  }
}
