import { BellaError } from '../../api';
import { open, seal } from '../crypto';
import { checkBytesEqual, computeCheck, GENESIS_CHECK, type LogFormat } from '../record-frame';

/** What the commit log needs of a `pg` client or pool: one query at a time. */
export interface Queryable {
  query<R extends Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}

/**
 * One commit group as the Postgres store writes it: the journal record (null for a group of audit
 * entries alone, which changes no state) and its audit entries' JSON.
 */
export interface PgGroup {
  seq: number;
  record: Buffer | null;
  entries: readonly Buffer[];
}

/** The last audit entry written: the chain continues from its check. */
export interface PgAuditHead {
  seq: number;
  check: string;
}

/** A journal row, opened. */
export interface PgJournalRow {
  seq: number;
  epoch: number;
  record: Buffer;
}

/** What {@link PgCommitLog.verifyAudit} found: every entry's chain checked, the epochs named. */
export interface PgAuditVerdict {
  entries: number;
  epochs: Array<{ epoch: number; first: number; last: number }>;
  /** The first problem found (the entry's seq and what is wrong), or null when the chain holds. */
  problem: string | null;
}

/** Rows read per query while the audit trail is verified. */
const VERIFY_BATCH = 5000;

/**
 * bella's commits in PostgreSQL: a journal row per commit group, an audit row per entry
 * (HMAC-chained as the files' trail is, never deleted), snapshot rows that fold the journal, and
 * archive rows (ended leases past their retention, as the files' lease archive).
 * Every body is sealed (AES-256-GCM, its table and seq as associated data, so a row cannot be
 * moved to another place): Postgres holds ciphertext, sequence numbers, epochs and checks.
 * Writes run inside the caller's transaction, the one that checks the leader's epoch; the primary
 * keys refuse a second writer of the same seq. Its tables are made by `ensureSchema` (schema.ts).
 */
export class PgCommitLog {
  /**
   * @param sealKey seals every row's body
   * @param format the audit chain's HMAC (the log key)
   */
  constructor(
    private readonly sealKey: Buffer,
    private readonly format: LogFormat,
  ) {}

  /** Writes a group after `head` (inside the caller's transaction); returns the audit head after it. */
  async write(db: Queryable, epoch: number, group: PgGroup, head: PgAuditHead): Promise<PgAuditHead> {
    if (group.record) {
      await db.query('INSERT INTO bella_journal (seq, epoch, body) VALUES ($1, $2, $3)', [
        group.seq,
        epoch,
        this.seal('bella_journal', group.seq, group.record),
      ]);
    }
    if (group.entries.length === 0) return head;
    let { seq, check } = head;
    const seqs: number[] = [];
    const bodies: Buffer[] = [];
    const checks: string[] = [];
    for (const entry of group.entries) {
      seq += 1;
      check = computeCheck(this.format, check, entry);
      seqs.push(seq);
      bodies.push(this.seal('bella_audit', seq, entry));
      checks.push(check);
    }
    await db.query(
      'INSERT INTO bella_audit (seq, epoch, body, chk) SELECT s, $2, b, c FROM unnest($1::bigint[], $3::bytea[], $4::text[]) AS t(s, b, c)',
      [seqs, epoch, bodies, checks],
    );
    return { seq, check };
  }

  /** Journal rows after `seq`, oldest first, at most `limit` of them. */
  async since(db: Queryable, seq: number, limit = 1000): Promise<PgJournalRow[]> {
    const res = await db.query<{ seq: string; epoch: string; body: Buffer }>(
      'SELECT seq, epoch, body FROM bella_journal WHERE seq > $1 ORDER BY seq LIMIT $2',
      [seq, limit],
    );
    return res.rows.map((row) => {
      const at = Number(row.seq);
      return { seq: at, epoch: Number(row.epoch), record: this.open('bella_journal', at, row.body) };
    });
  }

  /** The newest audit entry's seq and check (the genesis check before the first). */
  async auditHead(db: Queryable): Promise<PgAuditHead> {
    const res = await db.query<{ seq: string; chk: string }>(
      'SELECT seq, chk FROM bella_audit ORDER BY seq DESC LIMIT 1',
    );
    const row = res.rows[0];
    return row ? { seq: Number(row.seq), check: row.chk } : { seq: 0, check: GENESIS_CHECK };
  }

  /** Audit entries' JSON from `from` (a seq) on, oldest first, at most `limit`. */
  async auditEntries(
    db: Queryable,
    from: number,
    limit: number,
  ): Promise<Array<{ seq: number; epoch: number; entry: Buffer }>> {
    const res = await db.query<{ seq: string; epoch: string; body: Buffer }>(
      'SELECT seq, epoch, body FROM bella_audit WHERE seq >= $1 ORDER BY seq LIMIT $2',
      [from, limit],
    );
    return res.rows.map((row) => {
      const seq = Number(row.seq);
      return { seq, epoch: Number(row.epoch), entry: this.open('bella_audit', seq, row.body) };
    });
  }

  /** Audit entries' JSON and checks before `before` (a seq; all when undefined), newest first, at most `limit`. */
  async auditPage(
    db: Queryable,
    before: number | undefined,
    limit: number,
  ): Promise<Array<{ seq: number; entry: Buffer; check: string }>> {
    const res = await db.query<{ seq: string; body: Buffer; chk: string }>(
      'SELECT seq, body, chk FROM bella_audit WHERE seq < $1 ORDER BY seq DESC LIMIT $2',
      [before ?? Number.MAX_SAFE_INTEGER, limit],
    );
    return res.rows.map((row) => {
      const seq = Number(row.seq);
      return { seq, entry: this.open('bella_audit', seq, row.body), check: row.chk };
    });
  }

  /**
   * Walks every audit row in order: each body must open under its own seq, the seqs must follow one
   * another from 1, and each check must chain from the one before. Names each epoch's range.
   */
  async verifyAudit(db: Queryable): Promise<PgAuditVerdict> {
    const epochs: PgAuditVerdict['epochs'] = [];
    let expected = 1;
    let check = GENESIS_CHECK;
    for (;;) {
      const res = await db.query<{ seq: string; epoch: string; body: Buffer; chk: string }>(
        'SELECT seq, epoch, body, chk FROM bella_audit WHERE seq >= $1 ORDER BY seq LIMIT $2',
        [expected, VERIFY_BATCH],
      );
      for (const row of res.rows) {
        const seq = Number(row.seq);
        const verdict = (problem: string) => ({
          entries: expected - 1,
          epochs,
          problem: `audit entry ${seq}: ${problem}`,
        });
        if (seq !== expected) return verdict(`entries ${expected}–${seq - 1} are missing`);
        let entry: Buffer;
        try {
          entry = this.open('bella_audit', seq, row.body);
        } catch {
          return verdict('its body does not open with this key file (edited, moved, or another key)');
        }
        check = computeCheck(this.format, check, entry);
        if (!checkBytesEqual('hmac', Buffer.from(row.chk, 'latin1'), check)) {
          return verdict('its check does not follow from the entry before (edited, reordered, or one is missing)');
        }
        const epoch = Number(row.epoch);
        const last = epochs.at(-1);
        if (last && last.epoch === epoch) last.last = seq;
        else if (last && epoch < last.epoch) return verdict(`written at epoch ${epoch}, after epoch ${last.epoch}`);
        else epochs.push({ epoch, first: seq, last: seq });
        expected = seq + 1;
      }
      if (res.rows.length < VERIFY_BATCH) return { entries: expected - 1, epochs, problem: null };
    }
  }

  /** Writes the state as of `seq` and drops the journal rows it folds (inside the caller's transaction). */
  async writeSnapshot(db: Queryable, epoch: number, seq: number, body: Buffer): Promise<void> {
    await db.query('INSERT INTO bella_snapshot (seq, epoch, body) VALUES ($1, $2, $3)', [
      seq,
      epoch,
      this.seal('bella_snapshot', seq, body),
    ]);
    await db.query('DELETE FROM bella_snapshot WHERE seq < $1', [seq]);
    await db.query('DELETE FROM bella_journal WHERE seq <= $1', [seq]);
  }

  /** The newest snapshot, or null before the first. */
  async latestSnapshot(db: Queryable): Promise<{ seq: number; epoch: number; body: Buffer } | null> {
    const res = await db.query<{ seq: string; epoch: string; body: Buffer }>(
      'SELECT seq, epoch, body FROM bella_snapshot ORDER BY seq DESC LIMIT 1',
    );
    const row = res.rows[0];
    if (!row) return null;
    const seq = Number(row.seq);
    return { seq, epoch: Number(row.epoch), body: this.open('bella_snapshot', seq, row.body) };
  }

  /** Appends ended leases' JSON (inside the caller's transaction). */
  async archive(db: Queryable, leases: readonly Buffer[]): Promise<void> {
    if (leases.length === 0) return;
    // Each row's seq is taken first, so its body is sealed under it.
    const seqs = await db.query<{ seq: string }>(
      "SELECT nextval(pg_get_serial_sequence('bella_archive', 'seq')) AS seq FROM generate_series(1, $1)",
      [leases.length],
    );
    const at = seqs.rows.map((row) => Number(row.seq));
    await db.query('INSERT INTO bella_archive (seq, body) SELECT * FROM unnest($1::bigint[], $2::bytea[])', [
      at,
      leases.map((lease, i) => this.seal('bella_archive', at[i]!, lease)),
    ]);
  }

  /** Every archived lease's JSON, oldest first. */
  async archived(db: Queryable): Promise<Buffer[]> {
    const res = await db.query<{ seq: string; body: Buffer }>('SELECT seq, body FROM bella_archive ORDER BY seq');
    return res.rows.map((row) => this.open('bella_archive', Number(row.seq), row.body));
  }

  private seal(table: string, seq: number, plaintext: Buffer): Buffer {
    return Buffer.from(seal(this.sealKey, plaintext, `${table} ${seq}`), 'base64');
  }

  private open(table: string, seq: number, body: Buffer): Buffer {
    try {
      return open(this.sealKey, body.toString('base64'), `${table} ${seq}`);
    } catch {
      throw new BellaError(
        'internal',
        `${table} row ${seq} in PostgreSQL does not open with this key file: it was edited, moved, or the nodes do not share one key file`,
      );
    }
  }
}
