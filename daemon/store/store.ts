import fs from 'node:fs';
import { createSecretKey } from 'node:crypto';
import path from 'node:path';
import { BellaError, isBellaError, type AuditEntry } from '../api';
import { copyFileDurable, ensurePrivateDir, removeStaleTemps } from '../base/node/files';
import { masterKeyPath } from '../base/node/paths';
import { AuditTrail, DEFAULT_SEGMENT_BYTES, type PreparedEntries, type TrailScan } from './audit/trail';
import type { AuditInput, StoredEntry } from './audit/entry';
import type { IndexFilter } from './audit/segment-index';
import { verifyInWorker, type VerifyResult } from './audit/verify';
import { SafeClock, systemTime, type TimeSource } from './clock';
import { deriveKeys, loadMasterKey, type KeyRing } from './crypto';
import { Journal, type JournalRecord, type JournalScan } from './journal';
import { LeaseArchive } from './lease-archive';
import { migrateLegacyLayout } from './legacy';
import { logDamage, type LogFormat } from './record-log';
import { applyChange, changesOf, emptyState, FLAT_RECORDS, Touched, type State } from './schema';
import { readSnapshot, writeSnapshot, type AuditHead, type SnapshotMeta } from './snapshot';

/** The files of a data directory. */
export function dataFiles(home: string) {
  return {
    snapshot: path.join(home, 'state.snapshot'),
    journal: path.join(home, 'state.journal'),
    audit: path.join(home, 'audit'),
    leaseArchive: path.join(home, 'leases.archive'),
    masterKey: masterKeyPath(home),
    backups: path.join(home, 'backups'),
  };
}

/**
 * How a commit is let through when the disk is nearly full. `growth` (new leases, secrets,
 * projects…) needs room for a whole new snapshot; `read` (audited token reads) and `release`
 * (revoke, expire-all, expiry marking) may use the last reserve, and `release` its very end, so a
 * leaked token can always be stopped, and reads fail closed before stopping one could.
 */
export type CommitKind = 'growth' | 'read' | 'release';

/** What a transaction returns: its result and the audit entries written in the same commit. */
export interface TxResult<R> {
  result: R;
  audit: AuditInput[];
}

/** Options of {@link Store.open}. */
export interface StoreOptions {
  /** Where time comes from (a fake in tests). */
  time?: TimeSource;
  /** Audit segment size (small in tests of rotation). */
  segmentBytes?: number;
  /** Journal size from which it is folded into a snapshot (small in tests of compaction). */
  journalCompactBytes?: number;
  /** Accept a state older than the audit trail records (a backup restored on purpose). */
  acceptRollback?: boolean;
  log?: (message: string) => void;
}

interface Item {
  kind: CommitKind;
  audit: AuditInput[];
  /** The records a transaction changed; null for entries that change no state. */
  touched: Touched | null;
  /** Commit even without changes, to anchor the audit head (and the clock) in the journal. */
  anchor?: boolean;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Room kept free for `read` and `release` commits: below it, growth is refused. */
const CRITICAL_RESERVE = 1024 * 1024;
/** Reads stop below this, leaving the rest of the reserve to `release` commits. */
const READ_RESERVE = CRITICAL_RESERVE / 2;
/** Growth also needs room for a new snapshot, at least this much. */
const MIN_SNAPSHOT_ROOM = 256 * 1024;
/** The journal is folded into a new snapshot once it outgrows this, or half the snapshot. */
const JOURNAL_MIN_COMPACT_BYTES = 8 * 1024 * 1024;
/** Reads since the last commit are anchored (their head committed) within this long. */
const ANCHOR_DELAY_MS = 1000;
/** How long a free-space reading is trusted (minus what was written since). */
const STATFS_TTL_MS = 100;

/** How many daily snapshots `backups/` keeps. */
export const DEFAULT_BACKUPS_KEPT = 7;

/**
 * The daemon's store. State lives in memory (plain objects, read by the services); it is made
 * durable by commits through one pipeline, which group-commits whatever arrived together: the
 * records each transaction touched and its audit entries go to the journal as one record (the
 * atomic unit), then the entries to the audit trail; a caller is answered once its own change and
 * entries are on disk. A commit that fails puts memory back to what is on disk. At start the
 * snapshot, journal and audit trail are cross-checked, so none of them can silently lose what the
 * others say was acknowledged.
 */
export class Store {
  /** Items waiting for the next commit: whatever arrives while one is being written. */
  private pending: Item[] = [];
  private running = false;
  private idleWaiters: Array<() => void> = [];
  /** Snapshot writes (compaction, backups), run between commits at a quiescent instant. */
  private jobs: Array<() => Promise<void>> = [];
  private readonly reloadListeners: Array<() => void> = [];
  /** Entries written to the journal whose audit write failed: written first by the next commit. */
  private pendingAudit: PreparedEntries | null = null;
  private lastCommit: { seq: number; head: AuditHead };

  private snapshotBytes: number;
  /** The last commit state.snapshot holds. */
  private snapshotSeq: number;
  private freeCache = { at: -Infinity, bytes: 0 };
  private readonly used = new Set<string>();
  /**
   * The newest commit item: groups commit in order, so once it settles every change applied to
   * memory before it is on disk (or, if it failed, put back).
   */
  private lastQueued: Promise<void> = Promise.resolve();
  /** How many times memory was put back to what is on disk. */
  private reloads = 0;
  private anchorTimer: NodeJS.Timeout | null = null;
  private gate: Promise<void> | null = null;
  private closed = false;
  /** Why the trail or journal could not be written last time, until a write succeeds again. */
  private writeProblem: string | null = null;
  /** What the start-up checks found and recorded (entries missing, a state restored). */
  private readonly startupFindings: string[] = [];

  private constructor(
    readonly home: string,
    readonly state: State,
    readonly keys: KeyRing,
    readonly clock: SafeClock,
    private journal: Journal,
    private readonly trail: AuditTrail,
    readonly archive: LeaseArchive,
    private readonly format: LogFormat,
    private readonly log: (message: string) => void,
    last: { seq: number; head: AuditHead; snapshotBytes: number; snapshotSeq: number },
    private readonly journalCompactBytes: number,
  ) {
    this.lastCommit = { seq: last.seq, head: last.head };
    this.snapshotBytes = last.snapshotBytes;
    this.snapshotSeq = last.snapshotSeq;
  }

  /**
   * Opens a data directory, creating it on first use. Refuses, naming the file and offset and
   * changing nothing, when a file is damaged, when the master key is missing, or when the files
   * disagree about what was committed (a journal that lost commits the audit trail records).
   */
  static async open(home: string, options: StoreOptions = {}): Promise<Store> {
    const log = options.log ?? (() => undefined);
    const time = options.time ?? systemTime;
    ensurePrivateDir(home);
    const files = dataFiles(home);
    ensurePrivateDir(files.backups);
    removeStaleTemps(files.snapshot);
    const anyData = ['state.snapshot', 'state.journal', 'audit', 'state.json', 'audit.log'].some((name) =>
      fs.existsSync(path.join(home, name)),
    );
    const keys = deriveKeys(await loadMasterKey(files.masterKey, !anyData));
    await migrateLegacyLayout(home, files, keys, log);
    const exists = fs.existsSync(files.snapshot);
    // A key object: HMAC setup per record is cheaper than from raw key bytes.
    const format: LogFormat = { check: 'hmac', key: createSecretKey(keys.logKey) };
    const advice = restoreAdvice(files.backups);
    if (!exists && anyData) {
      throw logDamage(files.snapshot, 0, 'it is missing but the journal or audit trail exist', advice);
    }
    if (!exists) {
      const meta: SnapshotMeta = { journalSeq: 0, audit: { seq: 0, check: '0'.repeat(64) }, clock: time.wall() };
      await writeSnapshot(files.snapshot, emptyState(), meta, keys.logKey);
      await Journal.create(files.journal, format, 0).then((j) => j.close());
    }

    // Read everything first, changing nothing, and cross-check before any file is repaired.
    const snapshot = readSnapshot(files.snapshot, keys.logKey, advice);
    const state = snapshot.state;
    let rollback: string | null = null;
    let journalScan: JournalScan;
    try {
      journalScan = Journal.read(files.journal, format, snapshot.meta.journalSeq, advice);
    } catch (err) {
      if (!options.acceptRollback || !isOlderSnapshot(err)) throw err;
      const aside = path.join(files.backups, `state.journal.rolled-back-${stamp(time.wall())}`);
      fs.renameSync(files.journal, aside);
      rollback = `the journal did not follow the restored snapshot; it was kept as ${aside}`;
      journalScan = Journal.read(files.journal, format, snapshot.meta.journalSeq, advice);
    }
    let last: { seq: number; head: AuditHead; clock: number; record: JournalRecord | null } = {
      seq: snapshot.meta.journalSeq,
      head: snapshot.meta.audit,
      clock: snapshot.meta.clock,
      record: null,
    };
    for (const commit of journalScan.commits) {
      for (const change of commit.changes) {
        const refused = applyChange(state, change);
        if (refused) throw logDamage(files.journal, 0, `commit ${commit.seq}: ${refused}`, advice);
      }
      last = { seq: commit.seq, head: commit.audit.head, clock: Math.max(last.clock, commit.clock), record: commit };
    }
    const trailScan = AuditTrail.read(files.audit, format, advice);
    const trailHead = trailScan.head;
    let redo: StoredEntry[] = [];
    let gap: string | null = null;
    if (trailHead.seq < last.head.seq) {
      const entries = (last.record?.audit.entries ?? []) as StoredEntry[];
      const firstMissing = trailHead.seq + 1;
      if (entries.length && entries[0]!.seq <= firstMissing) {
        redo = entries.filter((e) => e.seq >= firstMissing);
      } else {
        gap = `entries ${firstMissing}–${last.head.seq} are missing from the audit trail (it ends at entry ${trailHead.seq}; the state records entry ${last.head.seq} as written): newest entries were deleted or a file was replaced`;
      }
    }
    const trail = await AuditTrail.open(trailScan, format, advice, options.segmentBytes ?? DEFAULT_SEGMENT_BYTES);
    let newestCommit = last.seq;
    try {
      if (!gap && trailHead.seq >= last.head.seq && last.head.seq > 0) {
        const anchored = trail.entryAt(last.head.seq);
        if (!anchored || anchored.check !== last.head.check) {
          gap = `the audit trail does not hold entry ${last.head.seq} as it was written: the trail was edited or replaced up to there`;
        }
      }
      // Entries after the last commit are reads; one written with a commit the journal lacks
      // proves the journal lost an acknowledged change (it was cut or replaced).
      if (!gap) {
        for (const entry of entriesAfter(trail, trailScan, last.head.seq)) {
          if (entry.commit === undefined || entry.commit <= last.seq) continue;
          if (!options.acceptRollback) throw rollbackError(files.journal, entry, last.seq);
          newestCommit = Math.max(newestCommit, entry.commit);
          rollback ??= `the audit trail records commits up to ${newestCommit} that the restored state does not hold`;
        }
      }
    } catch (err) {
      trail.close();
      throw err;
    }
    const journal = await Journal.open(format, journalScan);
    const archive = await LeaseArchive.open(files.leaseArchive, format, advice);
    const store = new Store(
      home,
      state,
      keys,
      new SafeClock(last.clock, time),
      journal,
      trail,
      archive,
      format,
      log,
      { seq: last.seq, head: last.head, snapshotBytes: snapshot.bytes, snapshotSeq: snapshot.meta.journalSeq },
      options.journalCompactBytes ?? JOURNAL_MIN_COMPACT_BYTES,
    );
    if (redo.length) {
      const prepared = trail.frame(redo);
      if (prepared.head.check !== last.head.check) {
        gap = `the audit trail's entry ${trailHead.seq} is not the one the state's last commit follows: the trail was edited or replaced`;
      } else {
        await trail.write(prepared);
        log(
          `audit: completed ${redo.length} entries of commit ${last.seq} from the journal (a crash came between the two writes)`,
        );
      }
    }
    if (gap) {
      log(`audit: ${gap}`);
      store.startupFindings.push(`at start-up: ${gap}`);
      await store.record(
        [{ event: 'AuditEntriesMissing', outcome: 'Success', actor: 'daemon', message: gap }],
        'release',
      );
    }
    if (rollback) {
      // Commits continue after every number the trail has seen, in a snapshot of the restored state.
      store.lastCommit = { seq: newestCommit, head: store.lastCommit.head };
      await store.exclusive(() => store.compact(true));
      log(`state: restored state accepted: ${rollback}`);
      store.startupFindings.push(`at start-up: restored state accepted: ${rollback}`);
      await store.record(
        [{ event: 'StateRestored', outcome: 'Success', actor: 'owner', message: rollback }],
        'release',
      );
    }
    return store;
  }

  /** What needs the owner's attention now, one sentence each. */
  problems(): string[] {
    const out = [...this.startupFindings];
    if (this.writeProblem) out.push(this.writeProblem);
    for (const swapped of [this.journal.problem(), this.trail.problem()]) {
      if (swapped && swapped.message !== this.writeProblem) out.push(swapped.message);
    }
    const free = this.freeBytes();
    if (free < this.growthReserve()) {
      out.push(
        `the disk holding ${this.home} is nearly full (${Math.floor(free / 1024)} KiB free): new leases and secrets are refused, revocations still work; free some space`,
      );
    }
    return out;
  }

  /** The audit trail's head as last written. */
  get auditHead(): AuditHead {
    return this.trail.head;
  }

  /**
   * Applies `change` to the state and commits it with its audit entries. `change` must validate
   * before it mutates (if it throws, nothing has changed) and mark every record it changes in
   * `touched`, so the commit writes exactly those.
   */
  async transact<R>(change: (state: State, touched: Touched) => TxResult<R>, kind: CommitKind = 'growth'): Promise<R> {
    while (this.gate) await this.gate;
    this.admit(kind);
    const touched = new Touched();
    const { result, audit } = change(this.state, touched);
    if (touched.empty && audit.length === 0) {
      // Nothing to write, but the answer may rest on changes not yet on disk: it waits for them.
      const reloads = this.reloads;
      await this.lastQueued.catch(() => undefined);
      if (this.reloads !== reloads) throw earlierChangeFailed();
      return result;
    }
    await this.enqueue(kind, audit, touched);
    return result;
  }

  /** Writes audit entries that change no state (reads, refusals); resolves once they are on disk. */
  record(audit: AuditInput[], kind: CommitKind = 'read'): Promise<void> {
    if (audit.length === 0) return Promise.resolve();
    this.admit(kind);
    return this.enqueue(kind, audit, null);
  }

  /** Notes that a lease's last use changed; persisted by the next commit or anchor. */
  markUsed(leaseId: string): void {
    this.used.add(leaseId);
    this.scheduleAnchor();
  }

  private enqueue(kind: CommitKind, audit: AuditInput[], touched: Touched | null, anchor = false): Promise<void> {
    if (this.closed) return Promise.reject(new BellaError('unavailable', 'the bella daemon is stopping'));
    const queued = new Promise<void>((resolve, reject) => {
      this.pending.push({ kind, audit, touched, anchor, resolve, reject });
      if (!this.running) void this.run();
    });
    this.lastQueued = queued;
    return queued;
  }

  /** The commit pipeline: one group at a time, each holding everything that arrived meanwhile. */
  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.pending.length || this.jobs.length) {
        if (this.pending.length) {
          const items = this.pending;
          this.pending = [];
          await this.commit(items);
          if (this.journal.bytes > Math.max(this.journalCompactBytes, this.snapshotBytes / 2)) await this.compact();
        }
        const job = this.jobs.shift();
        if (job) await job();
      }
    } finally {
      this.running = false;
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Resolves once nothing is waiting to be committed. */
  private idle(): Promise<void> {
    if (!this.running && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Commits one group: a journal record (if it changes state), then the audit entries, then answers. */
  private async commit(group: Item[]): Promise<void> {
    const fail = (err: Error) => {
      for (const item of items) item.reject(err);
    };
    // Reads were admitted on a reading of the last few ms; one fresh reading per commit settles it.
    let items = group;
    if (items.some((i) => i.kind === 'read' && !i.touched) && this.freeBytes(true) < READ_RESERVE) {
      const refusal = this.refusal('read', this.freeBytes(), READ_RESERVE);
      items = group.filter((i) => {
        if (i.kind !== 'read' || i.touched || i.anchor) return true;
        i.reject(refusal);
        return false;
      });
      if (items.length === 0) return;
    }
    try {
      // Entries that reached the journal but not the trail go first: the chain stays in order.
      if (this.pendingAudit) {
        await this.trail.write(this.pendingAudit);
        this.pendingAudit = null;
      }
      this.journal.assertSameFile();
      this.trail.assertSameFile();
    } catch (err) {
      if (items.some((i) => i.touched)) this.reload();
      const failure = asStorageError(err, this.trail.dir);
      this.writeProblem = failure.message;
      return fail(failure);
    }
    const touched = new Touched();
    const audit: AuditInput[] = [];
    for (const item of items) {
      if (item.touched) touched.merge(item.touched);
      audit.push(...item.audit);
    }
    const now = this.clock.now();
    const changesState = !touched.empty || items.some((i) => i.anchor);
    // Last use rides along with a commit that writes the journal anyway; reads alone never do.
    if (changesState) for (const id of this.used) touched.lease(id);
    const seq = this.lastCommit.seq + 1;
    const prepared = this.trail.prepare(audit, now, changesState ? seq : undefined);
    if (changesState) {
      const record: JournalRecord = {
        seq,
        clock: now,
        audit: { head: prepared.head, entries: prepared.entries },
        changes: changesOf(this.state, touched),
      };
      let written: number;
      try {
        written = await this.journal.append(record);
      } catch (err) {
        this.reload();
        const failure = asStorageError(err, this.journal.file);
        this.writeProblem = failure.message;
        return fail(failure);
      }
      this.used.clear();
      this.lastCommit = { seq, head: prepared.head };
      this.spent(written);
    }
    try {
      await this.trail.write(prepared);
      this.spent(prepared.batch.bytes.length);
      this.writeProblem = null;
    } catch (err) {
      const failure = asStorageError(err, this.trail.dir);
      this.writeProblem = failure.message;
      if (!changesState) return fail(failure);
      // The entries are durable in the journal record: the change is logged. The trail gets them
      // before anything else is written to it, at the next commit or at start-up.
      this.pendingAudit = prepared;
      this.log(`audit: could not write the trail (${(err as Error).message}); its entries are kept in the journal`);
    }
    for (const item of items) item.resolve();
    if (!changesState && prepared.entries.length) this.scheduleAnchor();
  }

  /**
   * Runs `serialise` at a quiescent instant: new transactions wait (briefly) while those already
   * applied to memory commit, so what it captures is exactly the committed state. `serialise`
   * must capture synchronously; new transactions proceed while its promise completes.
   */
  private async quiescent<T>(serialise: () => Promise<T>): Promise<T> {
    let open!: () => void;
    this.gate = new Promise<void>((resolve) => (open = resolve));
    try {
      while (this.pending.some((item) => item.touched)) {
        const items = this.pending;
        this.pending = [];
        await this.commit(items);
      }
      const done = serialise();
      this.gate = null;
      open();
      return await done;
    } finally {
      this.gate = null;
      open();
    }
  }

  /** Runs `job` in the pipeline, between commits. */
  private exclusive<T>(job: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.jobs.push(() => job().then(resolve, reject));
      if (!this.running) void this.run();
    });
  }

  private snapshotMeta(): SnapshotMeta {
    return { journalSeq: this.lastCommit.seq, audit: this.trail.head, clock: this.clock.now() };
  }

  /**
   * Folds the journal into a new snapshot, then replaces the journal by an empty one. A crash at
   * any point leaves the old snapshot and journal, or the new snapshot (which holds every commit
   * of the old journal, whose records are then skipped).
   */
  private async compact(force = false): Promise<void> {
    if (!force && (this.pendingAudit || this.freeBytes() < this.growthReserve())) return;
    const files = dataFiles(this.home);
    try {
      const meta = await this.quiescent(async () => {
        const meta = this.snapshotMeta();
        this.snapshotBytes = await writeSnapshot(files.snapshot, this.state, meta, this.keys.logKey);
        this.snapshotSeq = meta.journalSeq;
        return meta;
      });
      const old = this.journal;
      this.journal = await Journal.create(files.journal, this.format, meta.journalSeq);
      old.close();
    } catch (err) {
      this.log(
        `state: could not write a new snapshot (${(err as Error).message}); the journal keeps growing until it can`,
      );
    }
  }

  private scheduleAnchor(): void {
    if (this.anchorTimer || this.closed) return;
    this.anchorTimer = setTimeout(() => {
      this.anchorTimer = null;
      void this.anchor().catch((err: Error) => this.log(`state: could not anchor the audit head (${err.message})`));
    }, ANCHOR_DELAY_MS);
    this.anchorTimer.unref();
  }

  /**
   * Commits the audit head reached by reads (and the leases' last use) without any other change,
   * so entries written since the last commit cannot be deleted unnoticed for long.
   */
  private async anchor(): Promise<void> {
    if (this.trail.head.seq === this.lastCommit.head.seq && this.used.size === 0) return;
    await this.enqueue('read', [], null, true);
  }

  /** Refuses a commit of `kind` when the disk is too full for it, before anything changes. */
  private admit(kind: CommitKind): void {
    const needed = kind === 'growth' ? this.growthReserve() : kind === 'read' ? READ_RESERVE : 0;
    // Reads (the hot path) may use a reading of the last few ms; anything else, and any refusal,
    // reads the disk afresh, so a disk that filled or emptied a moment ago is seen as it is.
    if (kind === 'read' && this.freeBytes() >= needed) return;
    const free = this.freeBytes(true);
    if (free >= needed) return;
    throw this.refusal(kind, free, needed);
  }

  private refusal(kind: CommitKind, free: number, needed: number): BellaError {
    return new BellaError(
      'unavailable',
      kind === 'read'
        ? `the disk holding ${this.home} is full (ENOSPC: ${Math.floor(free / 1024)} KiB free): reads are refused so that revoking stays possible; free some space`
        : `the disk holding ${this.home} is full (ENOSPC: ${Math.floor(free / 1024)} KiB free, bella keeps ${Math.ceil(needed / 1024)} KiB free for revocations and its state): free some space and retry; nothing was changed`,
    );
  }

  private growthReserve(): number {
    return CRITICAL_RESERVE + Math.max(MIN_SNAPSHOT_ROOM, this.snapshotBytes + this.journal.bytes);
  }

  private freeBytes(fresh = false): number {
    const now = performance.now();
    if (fresh || now - this.freeCache.at > STATFS_TTL_MS) {
      const { bavail, bsize } = fs.statfsSync(this.home);
      this.freeCache = { at: now, bytes: bavail * bsize };
    }
    return this.freeCache.bytes;
  }

  /** Counts bytes written against the cached free space, so admission stays conservative. */
  private spent(bytes: number): void {
    this.freeCache.bytes -= bytes;
  }

  /**
   * Puts memory back to what is on disk after a failed commit. Transactions applied meanwhile are
   * undone by it too, so they are refused; entries that change no state still go through.
   */
  private reload(): void {
    this.reloads++;
    const failure = earlierChangeFailed();
    const waiting = this.pending;
    this.pending = waiting.filter((item) => !item.touched);
    for (const item of waiting) if (item.touched) item.reject(failure);
    const files = dataFiles(this.home);
    const advice = restoreAdvice(files.backups);
    const snapshot = readSnapshot(files.snapshot, this.keys.logKey, advice);
    const scan = Journal.read(files.journal, this.format, snapshot.meta.journalSeq, advice);
    for (const commit of scan.commits) for (const change of commit.changes) applyChange(snapshot.state, change);
    // The same objects, refilled: services hold references to the state and its maps.
    this.state.projects = snapshot.state.projects;
    this.state.settings = snapshot.state.settings;
    for (const name of Object.values(FLAT_RECORDS)) {
      const into = this.state[name] as Map<string, unknown>;
      into.clear();
      for (const [id, record] of snapshot.state[name] as Map<string, unknown>) into.set(id, record);
    }
    for (const listener of this.reloadListeners) listener();
  }

  /** Runs `listener` whenever the state was put back from disk after a failed commit. */
  onReload(listener: () => void): void {
    this.reloadListeners.push(listener);
  }

  /** Audit entries matching `filter`, newest first. */
  queryAudit(
    filter: IndexFilter,
    limit: number,
    before?: number,
  ): { entries: AuditEntry[]; nextCursor: number | null } {
    return this.trail.query(filter, limit, before);
  }

  /** Verifies the whole audit trail in a worker thread, against the head written last. */
  async verifyAudit(): Promise<VerifyResult> {
    await this.idle();
    const result = await verifyInWorker(this.trail.dir, this.keys.logKey, this.trail.head);
    // A copy renamed over the segment may hold a whole chain: what the daemon writes is then unseen.
    const swapped = result.ok ? this.trail.problem() : null;
    if (!swapped) return result;
    const file = this.trail.segmentFiles().at(-1)!;
    return { ...result, ok: false, firstBroken: { seq: null, file, offset: 0, reason: swapped.message } };
  }

  /** Writes a snapshot of the committed state into backups/ and keeps the newest `keep`. */
  async backup(keep = DEFAULT_BACKUPS_KEPT, now = new Date()): Promise<string> {
    const files = dataFiles(this.home);
    const target = path.join(files.backups, `state-${stamp(now.getTime())}.snapshot`);
    await this.exclusive(async () => {
      // A snapshot that holds every commit (after a clean start or a compaction) is copied by the
      // kernel; otherwise the journal is folded into it first. Neither keeps serving waiting twice.
      if (this.snapshotSeq !== this.lastCommit.seq) await this.compact(true);
      if (this.snapshotSeq === this.lastCommit.seq) await copyFileDurable(files.snapshot, target);
      else await this.quiescent(() => writeSnapshot(target, this.state, this.snapshotMeta(), this.keys.logKey));
    });
    const all = listBackups(files.backups);
    for (const old of all.slice(0, Math.max(0, all.length - keep))) fs.rmSync(path.join(files.backups, old));
    return target;
  }

  /** When the newest snapshot in backups/ was written, or null. */
  newestBackupTime(): number | null {
    const dir = dataFiles(this.home).backups;
    const newest = listBackups(dir).at(-1);
    return newest ? fs.statSync(path.join(dir, newest)).mtimeMs : null;
  }

  /**
   * Anchors what reads wrote, folds the journal into a snapshot (so the next start reads one
   * file), waits for pending commits and closes the files.
   */
  async close(): Promise<void> {
    if (this.anchorTimer) clearTimeout(this.anchorTimer);
    this.anchorTimer = null;
    await this.anchor().catch(() => undefined);
    if (this.journal.commits > 0) await this.exclusive(() => this.compact()).catch(() => undefined);
    this.closed = true;
    await this.idle();
    this.journal.close();
    this.trail.close();
    this.archive.close();
  }
}

/** Entries after `seq`: from the newest segment as read at start, older segments only if needed. */
function* entriesAfter(trail: AuditTrail, scan: TrailScan, seq: number): Generator<StoredEntry> {
  const active = scan.active;
  if (!active || seq < active.firstSeq - 1) {
    yield* trail.entriesAfter(seq);
    return;
  }
  for (const entry of active.entries) if (entry.seq > seq) yield entry;
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[:.]/g, '-');
}

function isOlderSnapshot(err: unknown): boolean {
  return isBellaError(err) && (err.details as { reason?: string } | undefined)?.reason === 'older-snapshot';
}

function listBackups(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => n.startsWith('state-') && n.endsWith('.snapshot'))
    .sort();
}

function restoreAdvice(backups: string): string {
  const lastGood = fs.existsSync(backups) ? listBackups(backups).at(-1) : undefined;
  return lastGood
    ? `the last good backup is ${path.join(backups, lastGood)}: copy it over state.snapshot and start again (the journal replays what came after it)`
    : 'restore the data directory from your own backups';
}

function rollbackError(journal: string, entry: StoredEntry, lastSeq: number): BellaError {
  return new BellaError(
    'unavailable',
    `${journal} holds commits up to ${lastSeq}, but the audit trail records commit ${entry.commit} (entry ${entry.seq}, ${entry.event}): changes that were acknowledged are missing from the state; bella changed nothing: restore the journal, or if you restored a backup on purpose, start with --accept-rollback`,
  );
}

function asStorageError(err: unknown, file: string): BellaError {
  if (isBellaError(err)) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const hint = code === 'ENOSPC' ? 'the disk is full; free some space and retry' : 'check the data directory and retry';
  return new BellaError('unavailable', `cannot write ${file} (${code ?? String(err)}): ${hint}; nothing was changed`);
}

/** The refusal of changes that rested on an earlier one that could not be written. */
function earlierChangeFailed(): BellaError {
  return new BellaError('unavailable', 'an earlier change could not be written, so this one was not either; retry');
}
