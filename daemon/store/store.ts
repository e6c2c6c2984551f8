import { BellaError, isBellaError, type AuditEntry } from '../api';
import fs from 'node:fs';
import path from 'node:path';
import { copyFileDurable, ensurePrivateDir } from '../base/node/files';
import type { AuditTrail, PreparedEntries } from './audit/trail';
import type { AuditInput } from './audit/entry';
import type { IndexFilter } from './audit/segment-index';
import { verifyInWorker, type VerifyResult } from './audit/verify';
import { backupFile, backupTableDir, DEFAULT_BACKUPS_KEPT, newestBackupTime, pruneBackups } from './backups';
import { SafeClock, systemTime } from './clock';
import { CommitQueue } from './commit-queue';
import type { KeyRing } from './crypto';
import { dataFiles } from './data-files';
import { DiskReserve, READ_RESERVE, type CommitKind } from './disk-reserve';
import { Journal, type AppendedRecord } from './journal';
import type { LeaseArchive } from './lease-archive';
import { payloadsOf, type LogFormat } from './record-frame';
import type { State } from './schema';
import { changesOf, refillState, Touched } from './state-changes';
import { openDataDir, readCommitted, type Recovered, type StoreOptions } from './recovery';
import { writeSnapshot, type AuditHead, type SnapshotMeta } from './snapshot';
import type { StateFiles } from './state-files';
import { earlierChangeFailed, type StateStore, type TxResult } from './state-store';

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

/** The journal is folded into a new snapshot once it outgrows this, or half the snapshot. */
const JOURNAL_MIN_COMPACT_BYTES = 8 * 1024 * 1024;
/** Reads since the last commit are anchored (their head committed) within this long. */
const ANCHOR_DELAY_MS = 1000;

/**
 * The daemon's store. State lives in memory (plain objects, read by the services); it is made
 * durable by commits through one pipeline, which group-commits whatever arrived together: the
 * records each transaction touched and its audit entries go to the journal as one record (the
 * atomic unit), then the entries to the audit trail; a caller is answered once its own change and
 * entries are on disk. A commit that fails puts memory back to what is on disk. At start the
 * snapshot, journal and audit trail are cross-checked, so none of them can silently lose what the
 * others say was acknowledged.
 */
export class Store implements StateStore {
  private readonly queue: CommitQueue<Item>;
  private readonly reloadListeners: Array<() => void> = [];
  /** Entries written to the journal whose audit write failed, in order: written first by the next commit. */
  private pendingAudit: PreparedEntries[] = [];
  /**
   * The entries of the last state commit, in the trail but not yet durable there: their fdatasync
   * runs alongside the next commit's journal write (they are durable in their own journal record).
   */
  private unsynced: { prepared: PreparedEntries; sync: Promise<void> } | null = null;
  private lastCommit: { seq: number; head: AuditHead };

  private snapshotBytes: number;
  /** The last commit state.snapshot holds. */
  private snapshotSeq: number;
  /** Whether the leases of the snapshot on disk are in the lease table (not in state.snapshot itself). */
  private leaseTable: boolean;
  private readonly disk: DiskReserve;
  private readonly used = new Set<string>();
  /**
   * The newest commit item: groups commit in order, so once it settles every change applied to
   * memory before it is on disk (or, if it failed, put back).
   */
  private lastQueued: Promise<void> = Promise.resolve();
  /** How many times memory was put back to what is on disk. */
  private reloads = 0;
  private anchorTimer: NodeJS.Timeout | null = null;
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
    private readonly stateFiles: StateFiles,
    last: { seq: number; head: AuditHead; snapshotBytes: number; snapshotSeq: number; leaseTable: boolean },
    private readonly journalCompactBytes: number,
  ) {
    this.lastCommit = { seq: last.seq, head: last.head };
    this.snapshotBytes = last.snapshotBytes;
    this.snapshotSeq = last.snapshotSeq;
    this.leaseTable = last.leaseTable;
    this.disk = new DiskReserve(home, () => this.snapshotBytes + this.journal.bytes);
    this.queue = new CommitQueue<Item>(
      (group) => this.commit(group),
      () => {
        if (this.journal.bytes > Math.max(this.journalCompactBytes, this.snapshotBytes / 2)) return this.compact();
      },
    );
  }

  /**
   * Opens a data directory, creating it on first use. Refuses, naming the file and offset and
   * changing nothing, when a file is damaged, when the master key is missing, or when the files
   * disagree about what was committed (a journal that lost commits the audit trail records).
   */
  static async open(home: string, options: StoreOptions = {}): Promise<Store> {
    const time = options.time ?? systemTime;
    const opened = await openDataDir(home, options, time);
    const { last } = opened;
    const store = new Store(
      home,
      opened.state,
      opened.keys,
      new SafeClock(last.clock, time),
      opened.journal,
      opened.trail,
      opened.archive,
      opened.format,
      options.log ?? (() => undefined),
      opened.stateFiles,
      {
        seq: last.seq,
        head: last.head,
        snapshotBytes: opened.snapshot.bytes,
        snapshotSeq: opened.snapshot.journalSeq,
        leaseTable: opened.snapshot.leaseTable,
      },
      options.journalCompactBytes ?? JOURNAL_MIN_COMPACT_BYTES,
    );
    await store.recordFindings(opened);
    // A snapshot holding many leases itself (written before the lease table), or a backup copied
    // back whose table files were read from backups/, is rewritten with them in the lease table.
    const inline = !opened.snapshot.leaseTable && opened.state.leases.size > opened.stateFiles.inlineLeasesMax;
    if (inline || opened.snapshot.tableFromBackup) {
      await store.queue.exclusive(() => store.compact(true));
      if (store.leaseTable) store.log(`state: ${opened.state.leases.size} leases moved to the lease table`);
    }
    return store;
  }

  /** Records in the trail what opening found: entries missing from it, a restored state accepted. */
  private async recordFindings({ gap, rollback, newestCommit }: Recovered): Promise<void> {
    if (gap) {
      this.log(`audit: ${gap}`);
      this.startupFindings.push(`at start-up: ${gap}`);
      await this.record(
        [{ event: 'AuditEntriesMissing', outcome: 'Success', actor: 'daemon', message: gap }],
        'release',
      );
    }
    if (rollback) {
      // Commits continue after every number the trail has seen, in a snapshot of the restored state.
      this.lastCommit = { seq: newestCommit, head: this.lastCommit.head };
      await this.queue.exclusive(() => this.compact(true));
      this.log(`state: restored state accepted: ${rollback}`);
      this.startupFindings.push(`at start-up: restored state accepted: ${rollback}`);
      await this.record([{ event: 'StateRestored', outcome: 'Success', actor: 'owner', message: rollback }], 'release');
    }
  }

  /** What needs the owner's attention now, one sentence each. */
  problems(): string[] {
    const out = [...this.startupFindings];
    if (this.writeProblem) out.push(this.writeProblem);
    for (const swapped of [this.journal.problem(), this.trail.problem()]) {
      if (swapped && swapped.message !== this.writeProblem) out.push(swapped.message);
    }
    const free = this.disk.free();
    if (free < this.disk.growthReserve()) {
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
    while (this.queue.gate) await this.queue.gate;
    this.disk.admit(kind);
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
    this.disk.admit(kind);
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
      this.queue.push({ kind, audit, touched, anchor, resolve, reject });
    });
    this.lastQueued = queued;
    return queued;
  }

  /** Commits one group: a journal record (if it changes state), then the audit entries, then answers. */
  private async commit(group: Item[]): Promise<void> {
    const fail = (err: Error) => {
      for (const item of items) item.reject(err);
    };
    // Reads were admitted on a reading of the last few ms; one fresh reading per commit settles it.
    let items = group;
    if (items.some((i) => i.kind === 'read' && !i.touched) && this.disk.free(true) < READ_RESERVE) {
      const refusal = this.disk.refusal('read', this.disk.free(), READ_RESERVE);
      items = group.filter((i) => {
        if (i.kind !== 'read' || i.touched || i.anchor) return true;
        i.reject(refusal);
        return false;
      });
      if (items.length === 0) return;
    }
    const touched = new Touched();
    const audit: AuditInput[] = [];
    for (const item of items) {
      if (item.touched) touched.merge(item.touched);
      audit.push(...item.audit);
    }
    const anchored = touched.empty && items.some((i) => i.anchor);
    const changesState = !touched.empty || anchored;
    // Reads that ride with an anchor are written as a group of reads alone, beside it.
    const readsBeside = anchored && audit.length > 0;
    try {
      // Entries that reached the journal but not the trail go first: the chain stays in order. A
      // full segment is replaced first too: what is prepared next chains from the new one's header.
      if (this.pendingAudit.length || this.trail.rotationDue) {
        await this.settleTrail();
        await this.writePending();
        if (this.trail.rotationDue) await this.rotateTrail();
      }
      // A group that writes the journal has it checked as it is written (RecordLog.write), at once.
      if (!changesState || readsBeside) this.journal.assertSameFile();
      this.trail.assertSameFile();
    } catch (err) {
      if (items.some((i) => i.touched)) this.reload();
      const failure = asStorageError(err, this.trail.dir);
      this.writeProblem = failure.message;
      return fail(failure);
    }
    if (readsBeside) return this.commitBesideAnchor(items, audit);
    const now = this.clock.now();
    // Last use rides along with a commit that writes the journal anyway; reads alone never do.
    if (changesState) for (const id of this.used) touched.lease(id);
    const seq = this.lastCommit.seq + 1;
    const prepared = this.trail.prepare(audit, now, changesState ? seq : undefined);
    if (changesState) {
      const record: AppendedRecord = {
        seq,
        clock: now,
        // The entries' JSON as framed for the trail (not serialised again); the changes as written.
        audit: { head: prepared.head, entries: prepared.entries, encoded: payloadsOf(prepared.batch) },
        changes: changesOf(this.state, touched),
      };
      let written: number;
      // The journal's fdatasync runs alongside the trail's of the commit before: that commit's
      // entries are durable in its own journal record, so a crash loses none (see recovery.ts).
      const appended = this.journal.append(record);
      appended.catch(() => undefined);
      await this.settleTrail();
      try {
        written = await appended;
      } catch (err) {
        this.reload();
        const failure = asStorageError(err, this.journal.file);
        this.writeProblem = failure.message;
        return fail(failure);
      }
      this.used.clear();
      this.lastCommit = { seq, head: prepared.head };
      this.disk.spent(written);
    } else await this.settleTrail();
    try {
      // Entries taken back off the trail by a failed fdatasync are written again before these.
      await this.writePending();
      if (changesState && !this.queue.gate) {
        // Durable in the journal record already: the trail's fdatasync need not hold the answer up.
        // (A snapshot being taken waits for it: compaction folds the journal that holds them.)
        this.trail.add(prepared);
        const sync = this.trail.sync();
        const unsynced = { prepared, sync };
        this.unsynced = unsynced;
        // Once durable its entries are not held until the next commit (10,000 of them after an expiry).
        sync.then(
          () => this.unsynced === unsynced && (this.unsynced = null),
          () => undefined,
        );
      } else {
        this.trail.add(prepared);
        await this.trail.sync();
      }
      this.disk.spent(prepared.batch.bytes.length);
      this.writeProblem = null;
    } catch (err) {
      const failure = asStorageError(err, this.trail.dir);
      this.writeProblem = failure.message;
      if (!changesState) return fail(failure);
      // The entries are durable in the journal record: the change is logged. The trail gets them
      // before anything else is written to it, at the next commit or at start-up.
      this.pendingAudit.push(prepared);
      this.log(`audit: could not write the trail (${(err as Error).message}); its entries are kept in the journal`);
    }
    for (const item of items) item.resolve();
    if (!changesState && prepared.entries.length) this.scheduleAnchor();
    // A full segment is replaced once the group is answered, before the next group is prepared.
    if (this.trail.rotationDue) await this.rotateAfterAnswer();
  }

  /**
   * Commits a group of reads and an anchor (no other change): the anchor's journal record names
   * the head before the reads (their entries are not in it), and is written while the reads'
   * entries go to the trail as in a group of reads alone; the reads are answered once their own
   * entries are durable, without waiting for the journal's fdatasync, and are anchored next time.
   */
  private async commitBesideAnchor(items: Item[], audit: AuditInput[]): Promise<void> {
    const now = this.clock.now();
    const touched = new Touched();
    for (const id of this.used) touched.lease(id);
    const seq = this.lastCommit.seq + 1;
    const anchor = this.trail.prepare([], now, seq);
    const prepared = this.trail.prepare(audit, now);
    const appended = this.journal.append({
      seq,
      clock: now,
      audit: { head: anchor.head, entries: anchor.entries, encoded: payloadsOf(anchor.batch) },
      changes: changesOf(this.state, touched),
    });
    appended.catch(() => undefined);
    const reads = items.filter((i) => !i.anchor);
    try {
      await this.settleTrail();
      await this.writePending();
      this.trail.add(prepared);
      await this.trail.sync();
      this.disk.spent(prepared.batch.bytes.length);
      this.writeProblem = null;
      for (const item of reads) item.resolve();
    } catch (err) {
      const failure = asStorageError(err, this.trail.dir);
      this.writeProblem = failure.message;
      for (const item of reads) item.reject(failure);
    }
    const anchors = items.filter((i) => i.anchor);
    try {
      this.disk.spent(await appended);
      this.used.clear();
      this.lastCommit = { seq, head: anchor.head };
      for (const item of anchors) item.resolve();
    } catch (err) {
      this.reload();
      const failure = asStorageError(err, this.journal.file);
      this.writeProblem = failure.message;
      for (const item of anchors) item.reject(failure);
    }
    this.scheduleAnchor();
    if (this.trail.rotationDue) await this.rotateAfterAnswer();
  }

  /** Starts the next audit segment; the sealed one's index is written in the background. */
  private async rotateTrail(): Promise<void> {
    const { indexed } = await this.trail.rotate();
    indexed.catch((err: Error) =>
      this.log(`audit: could not write a sealed segment's index (${err.message}); it is rebuilt at the next start`),
    );
  }

  /**
   * Replaces the full segment after a group was answered (its entries durable first). A failure
   * is noted; the next group tries again before it prepares anything, and is refused if it fails.
   */
  private async rotateAfterAnswer(): Promise<void> {
    try {
      await this.settleTrail();
      if (!this.pendingAudit.length) await this.rotateTrail();
    } catch (err) {
      this.writeProblem = asStorageError(err, this.trail.dir).message;
      this.log(`audit: could not start the next segment (${(err as Error).message}); retried at the next commit`);
    }
  }

  /**
   * Waits until the entries of the last state commit are durable in the trail. If they cannot be
   * made durable they were taken back off it, and are written again before anything else (they
   * are durable in their journal record, so the change stays logged, as after a failed write).
   */
  private async settleTrail(): Promise<void> {
    const unsynced = this.unsynced;
    if (!unsynced) return;
    this.unsynced = null;
    try {
      await unsynced.sync;
    } catch (err) {
      if (this.trail.head.seq < unsynced.prepared.head.seq) this.pendingAudit.unshift(unsynced.prepared);
      this.writeProblem = asStorageError(err, this.trail.dir).message;
      this.log(
        `audit: could not make the trail durable (${(err as Error).message}); its entries are kept in the journal`,
      );
    }
  }

  /**
   * Writes the entries a failed trail write left to the journal alone, oldest first. Each batch
   * leaves the list once durable, before a full segment is replaced (a failed rotation must not
   * have them written twice).
   */
  private async writePending(): Promise<void> {
    while (this.pendingAudit.length) {
      this.trail.add(this.pendingAudit[0]!);
      await this.trail.sync();
      this.pendingAudit.shift();
      if (this.trail.rotationDue) await this.rotateTrail();
    }
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
    // The snapshot replaces the journal records that hold the last entries: they must be in the trail first.
    await this.settleTrail();
    if (!force && (this.pendingAudit.length || this.disk.free() < this.disk.growthReserve())) return;
    const files = dataFiles(this.home);
    try {
      const meta = await this.queue.quiescent(async () => {
        const meta = this.snapshotMeta();
        const written = await this.stateFiles.write(this.state, meta);
        this.snapshotBytes = written.bytes;
        this.snapshotSeq = meta.journalSeq;
        this.leaseTable = written.leaseTable;
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

  /**
   * Puts memory back to what is on disk after a failed commit. Transactions applied meanwhile are
   * undone by it too, so they are refused; entries that change no state still go through.
   */
  private reload(): void {
    this.reloads++;
    const failure = earlierChangeFailed();
    for (const item of this.queue.dropChanges()) item.reject(failure);
    refillState(this.state, readCommitted(this.home, this.keys.logKey, this.format));
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
    await this.queue.idle();
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
    const target = backupFile(files.backups, now.getTime());
    await this.queue.exclusive(async () => {
      // A backup is a copy of a snapshot that holds every commit (the journal is folded into it
      // first if needed), made by the kernel: state.snapshot, and the lease table files it names
      // into backups/lease-table/, where a start looks for them after the backup was copied back.
      if (this.snapshotSeq !== this.lastCommit.seq) await this.compact(true);
      if (this.snapshotSeq !== this.lastCommit.seq) {
        await this.queue.quiescent(() => writeSnapshot(target, this.state, this.snapshotMeta(), this.keys.logKey));
        return;
      }
      const tableBackup = backupTableDir(files.backups);
      for (const name of this.stateFiles.namedFiles()) {
        ensurePrivateDir(tableBackup);
        const copy = path.join(tableBackup, name);
        if (!fs.existsSync(copy)) await copyFileDurable(path.join(this.stateFiles.tableDir, name), copy);
      }
      await copyFileDurable(files.snapshot, target);
    });
    pruneBackups(files.backups, keep);
    return target;
  }

  /** When the newest snapshot in backups/ was written, or null. */
  newestBackupTime(): number | null {
    return newestBackupTime(dataFiles(this.home).backups);
  }

  /**
   * Anchors what reads wrote, folds the journal into a snapshot (so the next start reads one
   * file), waits for pending commits and closes the files.
   */
  async close(): Promise<void> {
    if (this.anchorTimer) clearTimeout(this.anchorTimer);
    this.anchorTimer = null;
    await this.anchor().catch(() => undefined);
    if (this.journal.commits > 0) await this.queue.exclusive(() => this.compact()).catch(() => undefined);
    this.closed = true;
    await this.queue.idle();
    await this.settleTrail();
    await this.trail.indexed();
    await this.trail
      .checkpoint(this.keys.logKey)
      .catch((err: Error) => this.log(`audit: could not write the trail's checkpoint (${err.message})`));
    this.journal.close();
    this.trail.close();
    this.archive.close();
  }
}

function asStorageError(err: unknown, file: string): BellaError {
  if (isBellaError(err)) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const hint = code === 'ENOSPC' ? 'the disk is full; free some space and retry' : 'check the data directory and retry';
  return new BellaError('unavailable', `cannot write ${file} (${code ?? String(err)}): ${hint}; nothing was changed`);
}
