import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgCommitLog, type PgAuditHead, type Queryable } from '../../daemon/store/postgres/commit-log';
import { ensureSchema } from '../../daemon/store/postgres/schema';
import { GENESIS_CHECK } from '../../daemon/store/record-frame';
import { startPostgres, type PgCluster } from '../helpers/postgres';

// bella's commit tables on a real PostgreSQL (a private cluster): what is written is read back,
// sealed and chained; the primary keys refuse a second writer of a seq; verification names each
// epoch and finds an edited, moved or missing row.

let cluster: PgCluster;
let pool: pg.Pool;
const log = new PgCommitLog(randomBytes(32), { check: 'hmac', key: randomBytes(32) });
const MARK = 'plaintext-marker-5d1c0b';

/** Runs `work` in one transaction, as the store's fenced commit will. */
async function inTransaction<T>(work: (db: Queryable) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const out = await work(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

const entry = (n: number) => Buffer.from(JSON.stringify({ event: 'SecretRead', n, reason: MARK }));

beforeAll(async () => {
  cluster = await startPostgres();
  cluster.sql('CREATE DATABASE bella');
  pool = new pg.Pool({ connectionString: cluster.url('bella'), max: 4 });
  const client = await pool.connect();
  try {
    await ensureSchema(client);
    await ensureSchema(client); // twice: a second node starting finds them
  } finally {
    client.release();
  }
}, 60_000);

afterAll(async () => {
  await pool?.end();
  cluster?.destroy();
});

describe('PgCommitLog on PostgreSQL', () => {
  let head: PgAuditHead = { seq: 0, check: GENESIS_CHECK };

  it('writes groups in transactions and reads them back in order, sealed', async () => {
    expect(await log.auditHead(pool)).toEqual(head);
    head = await inTransaction((db) =>
      log.write(db, 1, { seq: 1, record: Buffer.from(`{"seq":1,"m":"${MARK}"}`), entries: [entry(1), entry(2)] }, head),
    );
    head = await inTransaction((db) =>
      log.write(db, 1, { seq: 2, record: Buffer.from('{"seq":2}'), entries: [] }, head),
    );
    head = await inTransaction((db) =>
      log.write(db, 2, { seq: 3, record: Buffer.from('{"seq":3}'), entries: [entry(3)] }, head),
    );
    expect(head.seq).toBe(3);
    expect(await log.auditHead(pool)).toEqual(head);
    const rows = await log.since(pool, 1);
    expect(rows.map((r) => [r.seq, r.epoch, r.record.toString()])).toEqual([
      [2, 1, '{"seq":2}'],
      [3, 2, '{"seq":3}'],
    ]);
    expect(
      (await log.auditEntries(pool, 2, 10)).map((e) => [e.seq, e.epoch, JSON.parse(e.entry.toString()).n]),
    ).toEqual([
      [2, 1, 2],
      [3, 2, 3],
    ]);
    // Postgres holds ciphertext: no row of any bella table shows the plaintext.
    const dump = cluster.sql(
      "SELECT encode(body, 'escape') FROM bella_journal UNION ALL SELECT encode(body, 'escape') FROM bella_audit",
      'bella',
    );
    expect(dump.length).toBeGreaterThan(0);
    expect(dump).not.toContain(MARK);
  });

  it('refuses a second writer of a seq, and writes nothing of its group', async () => {
    const stale: PgAuditHead = { seq: 2, check: 'f'.repeat(64) };
    await expect(
      inTransaction((db) =>
        log.write(db, 1, { seq: 3, record: Buffer.from('{"fork":true}'), entries: [entry(99)] }, stale),
      ),
    ).rejects.toThrow(/duplicate key/);
    expect((await log.since(pool, 2)).map((r) => r.record.toString())).toEqual(['{"seq":3}']);
    expect(await log.auditHead(pool)).toEqual(head);
  });

  it('verifies the audit chain across epochs, naming each', async () => {
    expect(await log.verifyAudit(pool)).toEqual({
      entries: 3,
      epochs: [
        { epoch: 1, first: 1, last: 2 },
        { epoch: 2, first: 3, last: 3 },
      ],
      problem: null,
    });
  });

  it('finds a body moved to another row, an edited check and a missing row', async () => {
    const original = cluster.sql("SELECT encode(body, 'hex') FROM bella_audit WHERE seq = 2", 'bella').trim();
    cluster.sql('UPDATE bella_audit SET body = (SELECT body FROM bella_audit WHERE seq = 1) WHERE seq = 2', 'bella');
    expect((await log.verifyAudit(pool)).problem).toMatch(/^audit entry 2: its body does not open/);
    cluster.sql(`UPDATE bella_audit SET body = decode('${original}', 'hex') WHERE seq = 2`, 'bella');
    expect((await log.verifyAudit(pool)).problem).toBeNull();

    const check = cluster.sql('SELECT chk FROM bella_audit WHERE seq = 2', 'bella').trim();
    cluster.sql(`UPDATE bella_audit SET chk = '${'0'.repeat(64)}' WHERE seq = 2`, 'bella');
    expect((await log.verifyAudit(pool)).problem).toMatch(/^audit entry 2: its check does not follow/);
    cluster.sql(`UPDATE bella_audit SET chk = '${check}' WHERE seq = 2`, 'bella');

    const saved = cluster
      .sql("SELECT epoch, encode(body, 'hex'), chk FROM bella_audit WHERE seq = 2", 'bella')
      .trim()
      .split('|');
    cluster.sql('DELETE FROM bella_audit WHERE seq = 2', 'bella');
    expect(await log.verifyAudit(pool)).toMatchObject({
      entries: 1,
      problem: 'audit entry 3: entries 2–2 are missing',
    });
    cluster.sql(
      `INSERT INTO bella_audit VALUES (2, ${saved[0]}, decode('${saved[1]}', 'hex'), '${saved[2]}')`,
      'bella',
    );
    expect((await log.verifyAudit(pool)).problem).toBeNull();
  });

  it('a journal row that does not open says so, naming the row', async () => {
    cluster.sql(
      'UPDATE bella_journal SET body = (SELECT body FROM bella_journal WHERE seq = 2) WHERE seq = 3',
      'bella',
    );
    await expect(log.since(pool, 2)).rejects.toThrow(
      'bella_journal row 3 in PostgreSQL does not open with this key file',
    );
  });

  it('a snapshot folds the journal rows up to its seq and is read back', async () => {
    expect(await log.latestSnapshot(pool)).toBeNull();
    await inTransaction((db) => log.writeSnapshot(db, 2, 2, Buffer.from('{"state":"at 2"}')));
    expect(await log.latestSnapshot(pool)).toEqual({ seq: 2, epoch: 2, body: Buffer.from('{"state":"at 2"}') });
    expect(cluster.sql('SELECT seq FROM bella_journal ORDER BY seq', 'bella').trim()).toBe('3');
    expect((await log.verifyAudit(pool)).entries).toBe(3); // audit rows are never folded
  });

  it('archives ended leases, sealed, and reads them back in order', async () => {
    const lease = (id: string) => Buffer.from(JSON.stringify({ id, reason: MARK }));
    await inTransaction((db) => log.archive(db, [lease('a'), lease('b')]));
    await inTransaction((db) => log.archive(db, [lease('c')]));
    expect((await log.archived(pool)).map((b) => JSON.parse(b.toString()).id)).toEqual(['a', 'b', 'c']);
    expect(cluster.sql("SELECT encode(body, 'escape') FROM bella_archive", 'bella')).not.toContain(MARK);
    // A body moved to another row does not open.
    cluster.sql(
      'UPDATE bella_archive SET body = (SELECT body FROM bella_archive ORDER BY seq LIMIT 1) WHERE seq = (SELECT max(seq) FROM bella_archive)',
      'bella',
    );
    await expect(log.archived(pool)).rejects.toThrow(/bella_archive row \d+ in PostgreSQL does not open/);
  });
});
