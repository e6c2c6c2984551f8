import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type pg from 'pg';
import { loadPg, pgError } from '../../store/postgres/pg';

// The SQL bella runs on a database (as openbao's postgresql plugin does): CREATE ROLE … LOGIN
// VALID UNTIL … IN ROLE groups; ALTER ROLE … VALID UNTIL on renewal; on the end NOLOGIN, end its
// sessions, REASSIGN OWNED/DROP OWNED, DROP ROLE IF EXISTS. Never free-form SQL: every name and
// literal goes through pg's own escapeIdentifier/escapeLiteral.

const pbkdf2Async = promisify(pbkdf2);

/** A database's pool, with pg's own escaping of identifiers and literals. */
interface Sql {
  pool: pg.Pool;
  ident: (name: string) => string;
  literal: (text: string) => string;
}

/** How long a connection may take, and a statement: a frozen server must not hang bella. */
const CONNECT_TIMEOUT_MS = 5000;
const QUERY_TIMEOUT_MS = 10_000;

/** What `databases add` learns about the admin URL. */
export interface AdminCheck {
  user: string;
  superuser: boolean;
  createRole: boolean;
  database: string;
}

/**
 * The SCRAM-SHA-256 verifier of a password, as Postgres stores it. bella sends the verifier, never
 * the password: a server logging DDL (`log_statement = ddl`) or a pg_stat_statements view never
 * holds a usable password (openbao's `password_authentication = scram-sha-256`).
 */
export async function scramVerifier(password: string): Promise<string> {
  const salt = randomBytes(16);
  const iterations = 4096;
  const salted = await pbkdf2Async(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Connections to the databases bella manages: one small pool per admin URL. */
export class PostgresAdmin {
  private readonly pools = new Map<string, pg.Pool>();

  constructor(private readonly log: (message: string) => void) {}

  private async sql(url: string): Promise<Sql> {
    const { Client, Pool } = await loadPg();
    let pool = this.pools.get(url);
    if (!pool) {
      pool = new Pool({
        connectionString: url,
        max: 8,
        idleTimeoutMillis: 10_000,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        query_timeout: QUERY_TIMEOUT_MS,
        application_name: 'bella',
      });
      // An idle connection the server closed (restart, terminate) must not crash the daemon.
      pool.on('error', (err) => this.log(`database connection lost: ${pgError(err)}`));
      this.pools.set(url, pool);
    }
    return {
      pool,
      ident: (name) => Client.prototype.escapeIdentifier(name),
      literal: (text) => Client.prototype.escapeLiteral(text),
    };
  }

  /** Forgets the pool of a URL (a database removed, its URL re-sealed). */
  async forget(url: string): Promise<void> {
    const pool = this.pools.get(url);
    this.pools.delete(url);
    await pool?.end().catch(() => undefined);
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.keys()].map((url) => this.forget(url)));
  }

  /** Connects once with a fresh client (not pooled) and says who bella is there. */
  async checkAdmin(url: string): Promise<AdminCheck> {
    const { Client } = await loadPg();
    const client = new Client({
      connectionString: url,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
    });
    await client.connect();
    try {
      const res = await client.query<{ user: string; rolsuper: boolean; rolcreaterole: boolean; db: string }>(
        'SELECT current_user AS user, rolsuper, rolcreaterole, current_database() AS db FROM pg_roles WHERE rolname = current_user',
      );
      const row = res.rows[0]!;
      return { user: row.user, superuser: row.rolsuper, createRole: row.rolcreaterole, database: row.db };
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Of the named roles, which exist and whether each may log in. */
  async groups(url: string, names: string[]): Promise<Map<string, { canLogin: boolean }>> {
    const { pool } = await this.sql(url);
    const res = await pool.query<{ rolname: string; rolcanlogin: boolean }>(
      'SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = ANY($1::text[])',
      [names],
    );
    return new Map(res.rows.map((r) => [r.rolname, { canLogin: r.rolcanlogin }]));
  }

  /** CREATE ROLE user LOGIN with the password's verifier, VALID UNTIL, in the groups. */
  async createLogin(url: string, login: { user: string; password: string; validUntil: number; groups: string[] }) {
    const verifier = await scramVerifier(login.password);
    const { pool, ident, literal } = await this.sql(url);
    await pool.query(
      `CREATE ROLE ${ident(login.user)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION INHERIT` +
        ` PASSWORD ${literal(verifier)} VALID UNTIL ${literal(new Date(login.validUntil).toISOString())}` +
        ` IN ROLE ${login.groups.map(ident).join(', ')}`,
    );
  }

  /** Sets a login user's password (its SCRAM verifier): `bella secrets rotate`. Running it again is harmless. */
  async setPassword(url: string, user: string, password: string): Promise<void> {
    const verifier = await scramVerifier(password);
    const { pool, ident, literal } = await this.sql(url);
    await pool.query(`ALTER ROLE ${ident(user)} WITH PASSWORD ${literal(verifier)}`);
  }

  /** Moves a login role's VALID UNTIL (a renewal). */
  async setValidUntil(url: string, user: string, validUntil: number): Promise<void> {
    const { pool, ident, literal } = await this.sql(url);
    await pool.query(`ALTER ROLE ${ident(user)} VALID UNTIL ${literal(new Date(validUntil).toISOString())}`);
  }

  /**
   * Ends a login role for good: NOLOGIN first (no new session), then its sessions are ended, what
   * it owns is reassigned to bella's admin and its privileges dropped, then the role. Safe to run
   * again at any point: a role already gone is done. Returns whether the role was still there.
   */
  async dropLogin(url: string, user: string): Promise<boolean> {
    const { pool, ident, literal } = await this.sql(url);
    const client = await pool.connect();
    let failed: Error | undefined;
    try {
      const found = await client.query<{ rolsuper: boolean }>(
        'SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS rolsuper FROM pg_roles WHERE rolname = $1',
        [user],
      );
      if (found.rowCount === 0) return false;
      const role = ident(user);
      // NOLOGIN commits on its own first, so no new session starts from here on, whatever follows.
      await client.query(`ALTER ROLE ${role} NOLOGIN`);
      // A CREATEROLE admin that is not superuser needs the role's privileges to end its sessions
      // and to reassign what it owns: it takes the membership (it is about to drop the role).
      await client.query(
        `${found.rows[0]!.rolsuper ? '' : `GRANT ${role} TO CURRENT_USER; `}` +
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ${literal(user)}`,
      );
      // One implicit transaction: what it owned is the admin's and the role is gone, or neither.
      await client.query(
        `REASSIGN OWNED BY ${role} TO CURRENT_USER; DROP OWNED BY ${role}; DROP ROLE IF EXISTS ${role}`,
      );
      return true;
    } catch (err) {
      failed = err as Error;
      throw err;
    } finally {
      // A connection that failed mid-way (a timeout) is not handed out again.
      client.release(failed);
    }
  }
}
