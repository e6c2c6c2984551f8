import type pg from 'pg';
import { BellaError, isBellaError, type AuditVerification } from '../../api';
import { ensurePrivateDir } from '../../base/node/files';
import { masterKeyPath } from '../../base/node/paths';
import { storedEntry, toAuditEntry, type AuditInput, type StoredEntry } from '../audit/entry';
import { entryMatches, type IndexFilter } from '../audit/segment-index';
import { backupFile, newestBackupTime, pruneBackups, DEFAULT_BACKUPS_KEPT } from '../backups';
import { SafeClock, systemTime, type TimeSource } from '../clock';
import { CommitQueue } from '../commit-queue';
import { deriveKeys, loadMasterKey, type KeyRing } from '../crypto';
import { dataFiles } from '../data-files';
import type { ArchivedLease } from '../lease-archive';
import type { Change } from '../record-validation';
import { emptyState, type State, type StoredLease } from '../schema';
import { writeSnapshot } from '../snapshot';
import { applyChange, changesOf, recordsOf, refillState, Touched } from '../state-changes';
import {
  earlierChangeFailed,
  type AuditPage,
  type LeaseArchiveStore,
  type StateStore,
  type TxResult,
} from '../state-store';
import { PgCommitLog, type PgAuditHead } from './commit-log';
import { commitPool, fencedCommit, FencedOut } from './leadership';
import { pgError } from './pg';
import { ensureSchema } from './schema';

/** Options of {@link PostgresStore.open}. */
export interface PostgresStoreOptions {
  /** `postgres://…` of bella's database. */
  connectionString: string;
  /** This node's data directory: its key file (the same on every node), socket, listener files, backups. */
  home: string;
  time?: TimeSource;
  log?: (message: string) => void;
  /** A transaction left idle this long is ended by Postgres (see leadership.ts). */
  idleTimeoutMs?: number;
  /** A new snapshot row is written after this many journal rows (small in tests of compaction). */
  compactAfterRows?: number;
}

interface Item {
  touched: Touched | null;
  audit: AuditInput[];
  anchor?: boolean;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** What a journal row holds: the records a commit changed, and the clock's high-water mark. */
interface PgRecord {
  seq: number;
  clock: number;
  changes: Change[];
}

const COMPACT_AFTER_ROWS = 1000;
/** Reads since the last commit are anchored (the leases' last use committed) within this long. */
const ANCHOR_DELAY_MS = 1000;
const AUDIT_PAGE_ROWS = 1000;
/** Journal rows read per query while loading or catching up. */
const JOURNAL_PAGE_ROWS = 1000;
/** Where the verdict names a problem in PostgreSQL (no file, no offset). */
const AUDIT_TABLE = 'bella_audit (PostgreSQL)';

/**
 * The state on PostgreSQL, shared by several nodes of which one is active (it holds leadership,
 * see leadership.ts): memory is loaded from the newest snapshot row and the journal rows after it;
 * every commit group is one transaction that checks the node's epoch, writes a journal row (the
 * records it changed) and its audit rows (HMAC-chained, one sequence across every node). A standby
 * loads the same rows and commits nothing; when it becomes active it reads the rows written since.
 * Bodies are sealed (commit-log.ts): Postgres holds ciphertext, sequence numbers, epochs and checks.
 */
export class PostgresStore implements StateStore {
  private readonly queue: CommitQueue<Item>;
  private readonly reloadListeners: Array<() => void> = [];
  private readonly stepDownListeners: Array<(reason: string) => void> = [];
  private readonly used = new Set<string>();
  private archived: ArchivedLease[] = [];
  private lastQueued: Promise<void> = Promise.resolve();
  private reloads = 0;
  private anchorTimer: NodeJS.Timeout | null = null;
  /** This node's epoch while it is active; null on a standby. */
  private epoch: number | null = null;
  private closed = false;
  /** Why the last commit failed, until one succeeds again. */
  private writeProblem: string | null = null;
  readonly archive: LeaseArchiveStore;

  private constructor(
    readonly home: string,
    readonly state: State,
    readonly keys: KeyRing,
    readonly clock: SafeClock,
    private readonly pool: pg.Pool,
    private readonly log: PgCommitLog,
    private readonly say: (message: string) => void,
    private position: { seq: number; head: PgAuditHead; snapshotSeq: number },
    private readonly compactAfterRows: number,
  ) {
    this.queue = new CommitQueue<Item>(
      (group) => this.commit(group),
      () => {
        if (this.epoch !== null && this.position.seq - this.position.snapshotSeq >= this.compactAfterRows)
          return this.compact();
      },
    );
    this.archive = {
      append: (leases) => this.appendArchive(leases),
      readAll: () => this.archived,
    };
  }

  /**
   * Connects, creates bella's tables when missing and loads the committed state as a standby. The
   * key file must be the one every node shares: a missing one is created only while Postgres holds
   * no state; a different one is refused at the first row that does not open.
   */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const say = options.log ?? (() => undefined);
    ensurePrivateDir(options.home);
    ensurePrivateDir(dataFiles(options.home).backups);
    const pool = await commitPool(options.connectionString, say, options.idleTimeoutMs);
    try {
      const client = await pool.connect();
      try {
        await ensureSchema(client);
      } finally {
        client.release();
      }
      const empty = await pool.query<{ empty: boolean }>(
        'SELECT NOT (EXISTS (SELECT 1 FROM bella_snapshot) OR EXISTS (SELECT 1 FROM bella_journal) OR EXISTS (SELECT 1 FROM bella_audit)) AS empty',
      );
      const keyFile = masterKeyPath(options.home);
      const master = await loadMasterKey(keyFile, empty.rows[0]!.empty).catch((err: unknown) => {
        if (isBellaError(err) && err.code === 'unavailable') {
          throw new BellaError(
            'unavailable',
            `${keyFile} is missing and PostgreSQL already holds bella's state: copy master.key from the data directory of the node that created it (every node uses the same key file)`,
          );
        }
        throw err;
      });
      const keys = deriveKeys(master);
      const log = new PgCommitLog(keys.rowKey, { check: 'hmac', key: keys.logKey });
      const loaded = await load(pool, log);
      const store = new PostgresStore(
        options.home,
        loaded.state,
        keys,
        new SafeClock(loaded.clock, options.time ?? systemTime),
        pool,
        log,
        say,
        { seq: loaded.seq, head: loaded.head, snapshotSeq: loaded.snapshotSeq },
        options.compactAfterRows ?? COMPACT_AFTER_ROWS,
      );
      store.archived = await readArchive(pool, log);
      return store;
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw isBellaError(err) ? err : new BellaError('unavailable', `PostgreSQL: ${pgError(err)}`);
    }
  }

  /** Whether this node commits (it holds leadership under `epoch`). */
  get active(): boolean {
    return this.epoch !== null;
  }

  /** The pool, for leadership's view of who is active. */
  get connection(): pg.Pool {
    return this.pool;
  }

  /**
   * Makes this node the one that commits, under `epoch` (just acquired): reads what the node
   * active before it committed since this one loaded, then tells the services (their caches are
   * rebuilt from the state, as after a reload).
   */
  async activate(epoch: number): Promise<{ caughtUp: number }> {
    const before = this.position.seq;
    await this.catchUp();
    this.epoch = epoch;
    this.notifyReload();
    return { caughtUp: this.position.seq - before };
  }

  /**
   * Runs `listener` when this node must stop committing: a commit was refused because another
   * node took over, or memory could not be read back after a failed commit.
   */
  onStepDown(listener: (reason: string) => void): void {
    this.stepDownListeners.push(listener);
  }

  private stepDown(reason: string): void {
    this.epoch = null;
    for (const listener of this.stepDownListeners) listener(reason);
  }

  /** Applies the journal rows written since this node's position, or reloads all if a snapshot folded them. */
  private async catchUp(): Promise<void> {
    const rows = await this.log.since(this.pool, this.position.seq, JOURNAL_PAGE_ROWS);
    if (rows.length && rows[0]!.seq !== this.position.seq + 1) return this.reloadAll();
    for (const row of rows) this.applyRecord(row.record, row.seq);
    if (rows.length === JOURNAL_PAGE_ROWS) return this.catchUp();
    this.position.head = await this.log.auditHead(this.pool);
  }

  private applyRecord(body: Buffer, seq: number): void {
    const record = JSON.parse(body.toString('utf8')) as PgRecord;
    if (record.seq !== seq) throw new BellaError('internal', `bella_journal row ${seq} holds commit ${record.seq}`);
    applyRecordTo(this.state, record);
    this.position.seq = seq;
  }

  /** Puts memory back to what PostgreSQL holds: the same objects, refilled (services hold references). */
  private async reloadAll(): Promise<void> {
    const loaded = await load(this.pool, this.log);
    refillState(this.state, loaded.state);
    this.position = { seq: loaded.seq, head: loaded.head, snapshotSeq: loaded.snapshotSeq };
    this.archived = await readArchive(this.pool, this.log);
  }

  private notifyReload(): void {
    for (const listener of this.reloadListeners) listener();
  }

  onReload(listener: () => void): void {
    this.reloadListeners.push(listener);
  }

  problems(): string[] {
    return this.writeProblem ? [this.writeProblem] : [];
  }

  async transact<R>(change: (state: State, touched: Touched) => TxResult<R>): Promise<R> {
    while (this.queue.gate) await this.queue.gate;
    this.assertActive();
    const touched = new Touched();
    const { result, audit } = change(this.state, touched);
    if (touched.empty && audit.length === 0) {
      const reloads = this.reloads;
      await this.lastQueued.catch(() => undefined);
      if (this.reloads !== reloads) throw earlierChangeFailed();
      return result;
    }
    await this.enqueue(audit, touched);
    return result;
  }

  record(audit: AuditInput[]): Promise<void> {
    if (audit.length === 0) return Promise.resolve();
    return this.enqueue(audit, null);
  }

  markUsed(leaseId: string): void {
    this.used.add(leaseId);
    this.scheduleAnchor();
  }

  private assertActive(): void {
    if (this.epoch === null) {
      throw new BellaError('unavailable', 'this node is a standby: changes are made on the active node');
    }
  }

  private enqueue(audit: AuditInput[], touched: Touched | null, anchor = false): Promise<void> {
    if (this.closed) return Promise.reject(new BellaError('unavailable', 'the bella daemon is stopping'));
    const queued = new Promise<void>((resolve, reject) => {
      this.queue.push({ audit, touched, anchor, resolve, reject });
    });
    this.lastQueued = queued;
    return queued;
  }

  /** Commits one group in one fenced transaction: its journal row (if it changes state) and its audit rows. */
  private async commit(items: Item[]): Promise<void> {
    const fail = (err: Error) => {
      for (const item of items) item.reject(err);
    };
    const epoch = this.epoch;
    if (epoch === null)
      return fail(new BellaError('unavailable', 'this node is a standby: changes are made on the active node'));
    const touched = new Touched();
    const audit: AuditInput[] = [];
    for (const item of items) {
      if (item.touched) touched.merge(item.touched);
      audit.push(...item.audit);
    }
    const changesState = !touched.empty || items.some((i) => i.anchor);
    if (changesState) for (const id of this.used) touched.lease(id);
    const now = this.clock.now();
    const seq = this.position.seq + (changesState ? 1 : 0);
    const nowIso = new Date(now).toISOString();
    const entries = audit.map((input, i) =>
      Buffer.from(
        JSON.stringify(storedEntry(input, this.position.head.seq + i + 1, nowIso, changesState ? seq : undefined)),
      ),
    );
    const record = changesState
      ? Buffer.from(
          JSON.stringify({ seq, clock: now, changes: [...changesOf(this.state, touched)] } satisfies PgRecord),
        )
      : null;
    try {
      const head = await fencedCommit(this.pool, epoch, (db) =>
        this.log.write(db, epoch, { seq, record, entries }, this.position.head),
      );
      this.position = { ...this.position, seq, head };
      if (changesState) this.used.clear();
      this.writeProblem = null;
    } catch (err) {
      if (err instanceof FencedOut) {
        fail(err);
        return this.stepDown(err.message);
      }
      const failure = isBellaError(err)
        ? err
        : new BellaError('unavailable', `PostgreSQL refused the commit (${pgError(err)}): retry`);
      this.writeProblem = `the last commit to PostgreSQL failed: ${failure.message}`;
      // Memory is put back (or the node steps down) before anyone is answered.
      if (items.some((i) => i.touched || i.anchor)) await this.reloadAfterFailure();
      return fail(failure);
    }
    for (const item of items) item.resolve();
  }

  /** After a failed commit: changes applied meanwhile are refused, memory is read back from PostgreSQL. */
  private async reloadAfterFailure(): Promise<void> {
    this.reloads++;
    const failure = earlierChangeFailed();
    for (const item of this.queue.dropChanges()) item.reject(failure);
    try {
      await this.reloadAll();
      this.notifyReload();
    } catch (err) {
      // Memory may hold a change that never committed: nothing more is committed from it.
      this.stepDown(`could not read the state back from PostgreSQL after a failed commit (${pgError(err)})`);
    }
  }

  /** Writes the state as a snapshot row and drops the journal rows it folds. */
  private async compact(): Promise<void> {
    const epoch = this.epoch;
    if (epoch === null) return;
    try {
      const { seq, body } = await this.queue.quiescent(() =>
        Promise.resolve({ seq: this.position.seq, body: serialise(this.state, this.position.seq, this.clock.now()) }),
      );
      await fencedCommit(this.pool, epoch, (db) => this.log.writeSnapshot(db, epoch, seq, body));
      this.position.snapshotSeq = seq;
    } catch (err) {
      this.say(`state: could not write a snapshot row (${pgError(err)}); the journal rows keep growing until it can`);
    }
  }

  private async appendArchive(leases: StoredLease[]): Promise<void> {
    if (leases.length === 0) return;
    const epoch = this.epoch;
    if (epoch === null) throw new BellaError('unavailable', 'this node is a standby');
    const kept = leases.map(({ tokenHash: _dropped, ...rest }) => rest);
    await fencedCommit(this.pool, epoch, (db) =>
      this.log.archive(
        db,
        kept.map((lease) => Buffer.from(JSON.stringify(lease))),
      ),
    );
    this.archived.push(...kept);
  }

  private scheduleAnchor(): void {
    if (this.anchorTimer || this.closed) return;
    this.anchorTimer = setTimeout(() => {
      this.anchorTimer = null;
      if (this.used.size && this.epoch !== null) void this.enqueue([], null, true).catch(() => undefined);
    }, ANCHOR_DELAY_MS);
    this.anchorTimer.unref();
  }

  async queryAudit(filter: IndexFilter, limit: number, before?: number): Promise<AuditPage> {
    const entries: AuditPage['entries'] = [];
    let cursor = before;
    for (;;) {
      const rows = await this.log.auditPage(this.pool, cursor, AUDIT_PAGE_ROWS);
      for (const row of rows) {
        const stored = JSON.parse(row.entry.toString('utf8')) as StoredEntry;
        if (!entryMatches(stored, filter)) continue;
        entries.push(toAuditEntry(stored, row.check));
        if (entries.length === limit) return { entries, nextCursor: row.seq };
      }
      if (rows.length < AUDIT_PAGE_ROWS) return { entries, nextCursor: null };
      cursor = rows.at(-1)!.seq;
    }
  }

  async verifyAudit(): Promise<AuditVerification> {
    await this.queue.idle();
    const verdict = await this.log.verifyAudit(this.pool);
    const seq = verdict.problem ? Number(/^audit entry (\d+)/.exec(verdict.problem)?.[1] ?? NaN) : null;
    return {
      ok: verdict.problem === null,
      entries: verdict.entries,
      firstBroken: verdict.problem
        ? { seq: Number.isFinite(seq) ? seq : null, file: AUDIT_TABLE, offset: 0, reason: verdict.problem }
        : null,
      epochs: verdict.epochs,
    };
  }

  /** A snapshot file of the committed state in this node's backups/, readable by a files store. */
  async backup(keep = DEFAULT_BACKUPS_KEPT, now = new Date()): Promise<string> {
    const dir = dataFiles(this.home).backups;
    const target = backupFile(dir, now.getTime());
    await this.queue.quiescent(() =>
      writeSnapshot(
        target,
        this.state,
        { journalSeq: this.position.seq, audit: this.position.head, clock: this.clock.now() },
        this.keys.logKey,
      ),
    );
    pruneBackups(dir, keep);
    return target;
  }

  newestBackupTime(): number | null {
    return newestBackupTime(dataFiles(this.home).backups);
  }

  async close(): Promise<void> {
    if (this.anchorTimer) clearTimeout(this.anchorTimer);
    this.anchorTimer = null;
    if (this.used.size && this.epoch !== null) await this.enqueue([], null, true).catch(() => undefined);
    this.closed = true;
    await this.queue.idle();
    await this.pool.end().catch(() => undefined);
  }
}

/** The state as one snapshot body: a first line with where it stands, then one record per line. */
function serialise(state: State, seq: number, clock: number): Buffer {
  const lines = [JSON.stringify({ seq, clock })];
  for (const change of recordsOf(state)) lines.push(JSON.stringify(change));
  return Buffer.from(lines.join('\n'));
}

function applyRecordTo(state: State, record: { changes: Change[] }): void {
  // Not parsed by the schema: the row opened under bella's key (AES-GCM), so bella wrote it, from
  // a state it had validated. A record that does not apply anyway is damage.
  for (const change of record.changes) {
    const refused = applyChange(state, change);
    if (refused) throw new BellaError('internal', `a commit in PostgreSQL does not apply: ${refused}`);
  }
}

/** Reads the committed state: the newest snapshot row and the journal rows after it. */
async function load(
  pool: pg.Pool,
  log: PgCommitLog,
): Promise<{ state: State; seq: number; snapshotSeq: number; clock: number; head: PgAuditHead }> {
  const state = emptyState();
  let seq = 0;
  let clock = 0;
  const snapshot = await log.latestSnapshot(pool);
  if (snapshot) {
    const [first, ...records] = snapshot.body.toString('utf8').split('\n');
    const meta = JSON.parse(first!) as { seq: number; clock: number };
    for (const line of records) applyRecordTo(state, { changes: [JSON.parse(line) as Change] });
    seq = meta.seq;
    clock = meta.clock;
  }
  const snapshotSeq = seq;
  for (;;) {
    const rows = await log.since(pool, seq, JOURNAL_PAGE_ROWS);
    for (const row of rows) {
      if (row.seq !== seq + 1) {
        throw new BellaError(
          'internal',
          `bella_journal has no row ${seq + 1} (the next is ${row.seq}): rows were deleted`,
        );
      }
      const record = JSON.parse(row.record.toString('utf8')) as PgRecord;
      applyRecordTo(state, record);
      seq = row.seq;
      clock = Math.max(clock, record.clock);
    }
    if (rows.length < JOURNAL_PAGE_ROWS) break;
  }
  return { state, seq, snapshotSeq, clock, head: await log.auditHead(pool) };
}

async function readArchive(pool: pg.Pool, log: PgCommitLog): Promise<ArchivedLease[]> {
  return (await log.archived(pool)).map((body) => JSON.parse(body.toString('utf8')) as ArchivedLease);
}
