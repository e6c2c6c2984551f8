import { createHash } from 'node:crypto';
import type pg from 'pg';

// bella's own tables on PostgreSQL, all named `bella_…`. Created by the first node to start, in
// one transaction under an advisory transaction lock, so two nodes starting together do not race.

/** A fixed advisory lock key of bella's: the first 8 bytes of SHA-256 of `purpose`, as a bigint. */
export function advisoryKey(purpose: string): string {
  const hash = createHash('sha256').update(purpose).digest();
  return hash.readBigInt64BE(0).toString();
}

/** The session lock whose holder is the active node. */
export const LEADER_LOCK = advisoryKey('bella leader');
const SCHEMA_LOCK = advisoryKey('bella schema');

/** The commit log's tables (see commit-log.ts): journal, audit, snapshot and archive rows. */
const COMMIT_TABLES = `
CREATE TABLE IF NOT EXISTS bella_journal (seq bigint PRIMARY KEY, epoch bigint NOT NULL, body bytea NOT NULL);
CREATE TABLE IF NOT EXISTS bella_audit (seq bigint PRIMARY KEY, epoch bigint NOT NULL, body bytea NOT NULL, chk text NOT NULL);
CREATE TABLE IF NOT EXISTS bella_snapshot (seq bigint PRIMARY KEY, epoch bigint NOT NULL, body bytea NOT NULL);
CREATE TABLE IF NOT EXISTS bella_archive (seq bigserial PRIMARY KEY, body bytea NOT NULL);
`;

/**
 * Creates bella's tables when missing. `bella_leader`'s one row is inserted with its table, never
 * after: an epoch must never count from 0 again, or an old node's epoch would become valid anew.
 */
export async function ensureSchema(client: pg.ClientBase): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [SCHEMA_LOCK]);
    const found = await client.query<{ exists: boolean }>("SELECT to_regclass('bella_leader') IS NOT NULL AS exists");
    if (!found.rows[0]!.exists) {
      await client.query(`CREATE TABLE bella_leader (
        id int PRIMARY KEY CHECK (id = 1),
        epoch bigint NOT NULL,
        node text,
        url text,
        since timestamptz
      )`);
      await client.query('INSERT INTO bella_leader (id, epoch) VALUES (1, 0)');
    }
    await client.query(COMMIT_TABLES);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
