import type pg from 'pg';
import { BellaError } from '../../api/errors';
import { loadPg, pgError } from './pg';
import { LEADER_LOCK, ensureSchema } from './schema';

// One active node among several on one PostgreSQL (issue 22). The active node holds a session
// advisory lock on a connection of its own, never a pool's (vault #17643: a renewal stuck behind a
// busy pool); a standby waits for it in a blocking `pg_advisory_lock`, so it wakes the moment the
// holder's session ends. On acquiring, the node bumps `bella_leader.epoch`, and every commit checks
// that epoch inside its own transaction (`fencedCommit`), so a node that was paused and wakes up
// can never commit after another took over. A lost lock is never taken back (openbao #2097): the
// node is told (`onLost`) and must wait for the lock anew, under a new epoch.

/** How long a silent active node keeps the lock: Postgres ends its idle session after this. */
export const DEFAULT_IDLE_TIMEOUT_MS = 3000;
const CONNECT_TIMEOUT_MS = 5000;

export interface LeadershipOptions {
  /** `postgres://…` of bella's database. */
  connectionString: string;
  /** This node's name and the URL it serves on, written for standbys' redirects and status. */
  node: string;
  url: string;
  /** Postgres ends the active node's session when it has been silent this long; ≥ 1000. */
  idleTimeoutMs?: number;
  /** Leadership ended without `release()`: the connection broke or a keep-alive failed. */
  onLost: (reason: string) => void;
  /** Gives up waiting for the lock (a standby that stops). */
  signal?: AbortSignal;
}

/** The active node as `bella_leader` says, and whether anyone holds the lock now. */
export interface LeaderView {
  epoch: number;
  node: string | null;
  url: string | null;
  since: Date | null;
  held: boolean;
}

/** A commit refused because its node's epoch is over. */
export class FencedOut extends BellaError {
  constructor(
    readonly epoch: number,
    readonly current: number,
  ) {
    super(
      'unavailable',
      `this node is no longer active: another node took over at epoch ${current} (this node's epoch was ${epoch})`,
      { epoch: current },
    );
  }
}

/** The session settings of the dedicated connection: how long a hung node can hold the lock. */
function sessionSettings(idleTimeoutMs: number): string {
  const seconds = Math.max(1, Math.ceil(idleTimeoutMs / 1000));
  return [
    `SET idle_session_timeout = ${idleTimeoutMs}`,
    `SET idle_in_transaction_session_timeout = ${idleTimeoutMs}`,
    'SET statement_timeout = 0',
    'SET lock_timeout = 0',
    `SET tcp_keepalives_idle = ${seconds}`,
    `SET tcp_keepalives_interval = ${seconds}`,
    'SET tcp_keepalives_count = 3',
    `SET client_connection_check_interval = ${Math.min(1000, idleTimeoutMs)}`,
  ].join('; ');
}

/** The active node's hold on leadership, from `Leadership.acquire` until `release()` or lost. */
export class Leadership {
  private lostReason: string | undefined;
  private released = false;
  private readonly keepAlive: NodeJS.Timeout;

  private constructor(
    private readonly client: pg.Client,
    /** This node's epoch: valid for its commits for as long as it is active. */
    readonly epoch: number,
    private readonly idleTimeoutMs: number,
    private readonly onLost: (reason: string) => void,
  ) {
    client.on('error', (err) => this.lose(`connection to PostgreSQL failed: ${pgError(err)}`));
    client.on('end', () => this.lose('connection to PostgreSQL ended'));
    this.keepAlive = setInterval(() => void this.ping(), Math.floor(idleTimeoutMs / 3));
    this.keepAlive.unref();
  }

  /**
   * Waits until this node holds the leader lock (creating bella's tables first when missing), then
   * takes the next epoch. Resolves active; rejects when the connection fails or `signal` aborts.
   */
  static async acquire(options: LeadershipOptions): Promise<Leadership> {
    const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    if (!Number.isInteger(idleTimeoutMs) || idleTimeoutMs < 1000) {
      throw new BellaError('invalid_argument', 'the idle timeout of leadership must be a whole number of ms ≥ 1000');
    }
    const { Client } = await loadPg();
    const client = new Client({
      connectionString: options.connectionString,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
      keepAliveInitialDelayMillis: idleTimeoutMs,
      application_name: 'bella leader',
    });
    let waitingError: Error | undefined;
    client.on('error', (err) => (waitingError = err));
    const abort = () => void client.end().catch(() => undefined);
    options.signal?.addEventListener('abort', abort);
    try {
      options.signal?.throwIfAborted();
      await client.connect();
      await client.query(sessionSettings(idleTimeoutMs));
      await ensureSchema(client);
      await client.query('SELECT pg_advisory_lock($1::bigint)', [LEADER_LOCK]);
      const res = await client.query<{ epoch: string }>(
        'UPDATE bella_leader SET epoch = epoch + 1, node = $1, url = $2, since = now() WHERE id = 1 RETURNING epoch',
        [options.node, options.url],
      );
      const row = res.rows[0];
      if (!row)
        throw new BellaError('internal', 'bella_leader has lost its row: refusing to count epochs from 0 again');
      if (waitingError) throw waitingError;
      client.removeAllListeners('error');
      return new Leadership(client, Number(row.epoch), idleTimeoutMs, options.onLost);
    } catch (err) {
      await client.end().catch(() => undefined);
      if (options.signal?.aborted) throw new BellaError('unavailable', 'stopped waiting to become the active node');
      throw err;
    } finally {
      options.signal?.removeEventListener('abort', abort);
    }
  }

  /** Why leadership was lost, or undefined while active (or after a clean release). */
  get lost(): string | undefined {
    return this.lostReason;
  }

  /** The cheap query that keeps the session from being ended as idle, and proves it is alive. */
  private async ping(): Promise<void> {
    const unanswered = setTimeout(
      () => this.lose(`keep-alive query unanswered for ${this.idleTimeoutMs} ms`),
      this.idleTimeoutMs,
    );
    try {
      await this.client.query('SELECT 1');
    } catch (err) {
      this.lose(`keep-alive query failed: ${pgError(err)}`);
    } finally {
      clearTimeout(unanswered);
    }
  }

  private lose(reason: string): void {
    if (this.released || this.lostReason !== undefined) return;
    this.lostReason = reason;
    clearInterval(this.keepAlive);
    void this.client.end().catch(() => undefined);
    this.onLost(reason);
  }

  /** A clean stop: unlocks at once, so a standby takes over without waiting for a timeout. */
  async release(): Promise<void> {
    if (this.released || this.lostReason !== undefined) return;
    this.released = true;
    clearInterval(this.keepAlive);
    await this.client.query('SELECT pg_advisory_unlock($1::bigint)', [LEADER_LOCK]).catch(() => undefined);
    await this.client.end().catch(() => undefined);
  }
}

/**
 * A pool for fenced commits. Its sessions end a transaction left idle for `idleTimeoutMs` (a node
 * stopped inside a commit must not hold the row lock a takeover's epoch bump waits for).
 */
export async function commitPool(
  connectionString: string,
  log: (message: string) => void,
  idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS,
): Promise<pg.Pool> {
  const { Pool } = await loadPg();
  const pool = new Pool({
    connectionString,
    max: 8,
    idleTimeoutMillis: 10_000,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idle_in_transaction_session_timeout: idleTimeoutMs,
    keepAlive: true,
    application_name: 'bella',
  });
  pool.on('error', (err) => log(`database connection lost: ${pgError(err)}`));
  return pool;
}

/**
 * Runs `work` in a transaction that first checks, under `FOR SHARE` of the leader row, that `epoch`
 * is still the current one, and commits it; else rolls back and throws `FencedOut`. A takeover's
 * epoch bump needs that row's lock, so it waits for such a commit to end, and any commit begun after
 * it sees the new epoch: no commit of an old epoch lands once a new epoch exists.
 */
export async function fencedCommit<T>(
  pool: pg.Pool,
  epoch: number,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onBroken = (err: Error) => (broken ??= err);
  client.on('error', onBroken);
  try {
    // One round trip: the transaction's start and its fence (a query without parameters may hold two).
    const [, fence] = (await client.query(
      'BEGIN; SELECT epoch FROM bella_leader WHERE id = 1 FOR SHARE',
    )) as unknown as [pg.QueryResult, pg.QueryResult<{ epoch: string }>];
    const current = Number(fence.rows[0]?.epoch ?? -1);
    if (current !== epoch) throw new FencedOut(epoch, current);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackErr: Error) => (broken = rollbackErr));
    throw err;
  } finally {
    client.off('error', onBroken);
    client.release(broken);
  }
}

/** Who is active, for standbys' redirects and `bella daemon status`. */
export async function who(pool: pg.Pool): Promise<LeaderView> {
  const res = await pool.query<{
    epoch: string;
    node: string | null;
    url: string | null;
    since: Date | null;
    held: boolean;
  }>(
    `SELECT epoch, node, url, since, EXISTS (
       SELECT 1 FROM pg_locks
       WHERE locktype = 'advisory' AND granted
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND classid = (($1::bigint >> 32) & 4294967295)::oid
         AND objid = ($1::bigint & 4294967295)::oid
         AND objsubid = 1
     ) AS held
     FROM bella_leader WHERE id = 1`,
    [LEADER_LOCK],
  );
  const row = res.rows[0];
  if (!row) throw new BellaError('internal', 'bella_leader has lost its row');
  return { epoch: Number(row.epoch), node: row.node, url: row.url, since: row.since, held: row.held };
}
