import fs from 'node:fs';
import { createSecretKey } from 'node:crypto';
import path from 'node:path';
import { BellaError, isBellaError } from '../api';
import { ensurePrivateDir, removeStaleTemps } from '../base/node/files';
import { checkpointFile, readCheckpoint, removeCheckpoint, type Checkpoint } from './audit/checkpoint';
import { scanInWorker, WORKER_MIN_BYTES, type PendingScan } from './audit/scan-in-worker';
import { segmentFile, segmentNames } from './audit/segment-scan';
import { AuditTrail, DEFAULT_SEGMENT_BYTES, type TrailScan } from './audit/trail';
import type { StoredEntry } from './audit/entry';
import { restoreAdvice, stamp } from './backups';
import type { TimeSource } from './clock';
import { deriveKeys, loadMasterKey, type KeyRing } from './crypto';
import { dataFiles, type DataFiles } from './data-files';
import { Journal, type JournalScan } from './journal';
import { LeaseArchive } from './lease-archive';
import { leaseTableDir } from './lease-table';
import { migrateLegacyLayout } from './legacy';
import { logDamage } from './log-scan';
import type { LogFormat } from './record-frame';
import { emptyState, type State } from './schema';
import { writeSnapshot, type AuditHead, type SnapshotMeta } from './snapshot';
import { StateFiles } from './state-files';
import { applyChange } from './state-changes';

// Reading a data directory back: at start, every file read and cross-checked before any is
// repaired; after a failed commit, memory put back to what is on disk.

/** Options of `Store.open`. */
export interface StoreOptions {
  /** Where time comes from (a fake in tests). */
  time?: TimeSource;
  /** Audit segment size (small in tests of rotation). */
  segmentBytes?: number;
  /** Journal size from which it is folded into a snapshot (small in tests of compaction). */
  journalCompactBytes?: number;
  /** Leases kept in state.snapshot itself up to this many; more go to the lease table (small in tests). */
  inlineLeasesMax?: number;
  /**
   * From how many bytes of audit segment and of lease table files the segment is scanned in a
   * worker thread while the table is read (default {@link WORKER_MIN_BYTES}; 0 in tests of that path).
   */
  scanWorkerBytes?: number;
  /** Accept a state older than the audit trail records (a backup restored on purpose). */
  acceptRollback?: boolean;
  log?: (message: string) => void;
}

/** A data directory opened: its files checked against each other, ready for the store. */
export interface Recovered {
  keys: KeyRing;
  format: LogFormat;
  state: State;
  journal: Journal;
  trail: AuditTrail;
  archive: LeaseArchive;
  snapshot: { bytes: number; journalSeq: number; leaseTable: boolean; tableFromBackup: boolean };
  /** The snapshot's files: state.snapshot (through lowdb) and the lease table. */
  stateFiles: StateFiles;
  /** The last commit: the snapshot's, or the journal's newest. */
  last: { seq: number; head: AuditHead; clock: number };
  /** Entries the state records as written but the trail does not hold: to be recorded as missing. */
  gap: string | null;
  /** Why a restored (older) state is accepted (`acceptRollback`), or null. */
  rollback: string | null;
  /** The newest commit number the trail has seen: commits continue after it. */
  newestCommit: number;
}

/**
 * Opens a data directory, creating it on first use. Refuses, naming the file and offset and
 * changing nothing, when a file is damaged, when the master key is missing, or when the files
 * disagree about what was committed (a journal that lost commits the audit trail records).
 * Entries of the last commit that a crash kept from the trail are written from the journal.
 */
export async function openDataDir(home: string, options: StoreOptions, time: TimeSource): Promise<Recovered> {
  const log = options.log ?? (() => undefined);
  ensurePrivateDir(home);
  const files = dataFiles(home);
  ensurePrivateDir(files.backups);
  removeStaleTemps(files.snapshot);
  removeStaleTableTemps(leaseTableDir(home));
  const anyData = ['state.snapshot', 'state.journal', 'audit', 'lease-table', 'state.json', 'audit.log'].some((name) =>
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
  const stateFiles = new StateFiles(home, keys.logKey, advice, options.inlineLeasesMax);
  const newestName = segmentNames(files.audit).at(-1);
  const newest = newestName === undefined ? null : segmentFile(files.audit, newestName);
  const checkpoint = newest && activeCheckpoint(files.audit, newest.file, keys.logKey, log);
  // The trail's newest segment is checked in a worker meanwhile, when both reads are large.
  const pending =
    newest &&
    startTrailScan(newest, stateFiles.tableDir, keys.logKey, advice, log, checkpoint, options.scanWorkerBytes);
  let scan: StartupScan;
  try {
    scan = await crossCheck(files, stateFiles, format, advice, pending, checkpoint, {
      acceptRollback: options.acceptRollback,
      segmentBytes: options.segmentBytes,
      wall: () => time.wall(),
      log,
    });
  } finally {
    pending?.cancel();
  }
  // Read and accepted: the segment grows past the checkpoint from now on.
  removeCheckpoint(files.audit);
  const journal = await Journal.open(format, scan.journalScan);
  const archive = await LeaseArchive.open(files.leaseArchive, format, advice);
  const { trail, redo, last } = scan;
  let gap = scan.gap;
  if (redo.length) {
    const prepared = trail.frame(redo);
    if (prepared.head.check !== last.head.check) {
      gap = `the audit trail's entry ${scan.trailHeadSeq} is not the one the state's last commit follows: the trail was edited or replaced`;
    } else {
      await trail.write(prepared);
      log(
        `audit: completed ${redo.length} entries of the commits up to ${last.seq} from the journal (a crash came between the writes)`,
      );
    }
  }
  return {
    keys,
    format,
    state: scan.state,
    journal,
    trail,
    archive,
    snapshot: scan.snapshot,
    stateFiles,
    last,
    gap,
    rollback: scan.rollback,
    newestCommit: scan.newestCommit,
  };
}

/**
 * What is on disk now: the snapshot with the journal replayed over it (after a failed commit, to
 * put memory back). Files are read as they are; damage refuses as at start.
 */
export function readCommitted(home: string, logKey: Buffer, format: LogFormat): State {
  const files = dataFiles(home);
  const advice = restoreAdvice(files.backups);
  const snapshot = new StateFiles(home, logKey, advice).readSync();
  const scan = Journal.read(files.journal, format, snapshot.meta.journalSeq, advice);
  for (const commit of scan.commits) for (const change of commit.changes) applyChange(snapshot.state, change);
  return snapshot.state;
}

/** What the start-up cross-check read and found. */
interface StartupScan {
  state: State;
  snapshot: { bytes: number; journalSeq: number; leaseTable: boolean; tableFromBackup: boolean };
  journalScan: JournalScan;
  /** The last commit: the snapshot's, or the journal's newest. */
  last: { seq: number; head: AuditHead; clock: number };
  /** The audit trail, opened. */
  trail: AuditTrail;
  /** Where the trail ended when read. */
  trailHeadSeq: number;
  /** Entries of the last commits the trail lacks (a crash came between the writes): written again. */
  redo: StoredEntry[];
  /** Entries the state records as written but the trail does not hold: recorded as missing. */
  gap: string | null;
  /** Why a restored (older) state is accepted (`acceptRollback`), or null. */
  rollback: string | null;
  /** The newest commit number the trail has seen: commits continue after it. */
  newestCommit: number;
}

/**
 * Reads the snapshot, the journal and the audit trail, changing nothing but a journal set aside
 * under `acceptRollback`, and cross-checks them, so none of them can silently lose what the others
 * say was acknowledged: a damaged file, or a journal that lost commits the trail records, refuses
 * to start (naming the file and offset); a trail missing entries is reported as a gap.
 */
async function crossCheck(
  files: DataFiles,
  stateFiles: StateFiles,
  format: LogFormat,
  advice: string,
  pending: PendingScan | null,
  checkpoint: Checkpoint | null,
  options: {
    acceptRollback?: boolean;
    segmentBytes?: number;
    wall: () => number;
    log: (message: string) => void;
  },
): Promise<StartupScan> {
  const snapshot = await stateFiles.read();
  const state = snapshot.state;
  let rollback: string | null = null;
  let journalScan: JournalScan;
  try {
    journalScan = Journal.read(files.journal, format, snapshot.meta.journalSeq, advice);
  } catch (err) {
    if (!options.acceptRollback || !isOlderSnapshot(err)) throw err;
    const aside = path.join(files.backups, `state.journal.rolled-back-${stamp(options.wall())}`);
    fs.renameSync(files.journal, aside);
    rollback = `the journal did not follow the restored snapshot; it was kept as ${aside}`;
    journalScan = Journal.read(files.journal, format, snapshot.meta.journalSeq, advice);
  }
  let last: { seq: number; head: AuditHead; clock: number } = {
    seq: snapshot.meta.journalSeq,
    head: snapshot.meta.audit,
    clock: snapshot.meta.clock,
  };
  for (const commit of journalScan.commits) {
    for (const change of commit.changes) {
      const refused = applyChange(state, change);
      if (refused) throw logDamage(files.journal, 0, `commit ${commit.seq}: ${refused}`, advice);
    }
    last = { seq: commit.seq, head: commit.audit.head, clock: Math.max(last.clock, commit.clock) };
  }
  // Only the entries since the last commit are kept as objects (the rest are indexed as read).
  const scanned = (await pending?.result(last.head.seq)) ?? undefined;
  const log = options.log;
  const trailScan = AuditTrail.read(files.audit, format, advice, last.head.seq, scanned, checkpoint);
  if (checkpoint && !scanned && trailScan.active) {
    log(
      `audit: ${trailScan.active.file} continued from its checkpoint at entry ${checkpoint.head.seq} (${trailScan.head.seq - checkpoint.head.seq} entries after it checked)`,
    );
  }
  const trailHead = trailScan.head;
  let redo: StoredEntry[] = [];
  let gap: string | null = null;
  if (trailHead.seq < last.head.seq) {
    // A commit's entries go to the trail once its journal record is durable, and their fdatasync
    // runs alongside the next commit's journal write: a crash keeps at most the last two commits'
    // entries from the trail, and their journal records hold them.
    const entries = journalScan.commits.slice(-2).flatMap((c) => c.audit.entries as StoredEntry[]);
    const firstMissing = trailHead.seq + 1;
    const from = entries.findIndex((e) => e.seq === firstMissing);
    const missing = from < 0 ? [] : entries.slice(from);
    if (
      missing.length &&
      missing.every((e, i) => e.seq === firstMissing + i) &&
      missing.at(-1)!.seq === last.head.seq
    ) {
      redo = missing;
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
  return {
    state,
    snapshot: {
      bytes: snapshot.bytes,
      journalSeq: snapshot.meta.journalSeq,
      leaseTable: snapshot.leaseTable,
      tableFromBackup: snapshot.tableFromBackup,
    },
    journalScan,
    last: { seq: last.seq, head: last.head, clock: last.clock },
    trail,
    trailHeadSeq: trailHead.seq,
    redo,
    gap,
    rollback,
    newestCommit,
  };
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

/**
 * The checkpoint a clean close left of the trail's newest segment, when it can be used (see
 * {@link readCheckpoint}); one line of output when there is one that cannot.
 */
function activeCheckpoint(
  dir: string,
  segment: string,
  logKey: Buffer,
  log: (message: string) => void,
): Checkpoint | null {
  const file = checkpointFile(dir);
  return readCheckpoint(file, segment, logKey, (why) =>
    log(`audit: ${file} was not used (${why}); ${segment} is scanned whole`),
  );
}

/**
 * Starts scanning the audit trail's newest segment in a worker thread, so that it and the lease
 * table's files are read and checked on two cores at once; null (scanned in this thread, after
 * the lease table) when either is small: a worker's own start would cost more than it saves. What
 * is to scan of the segment is what follows its `checkpoint` (the worker, when used, scans it whole).
 */
function startTrailScan(
  { file, firstSeq }: { file: string; firstSeq: number },
  tableDir: string,
  logKey: Buffer,
  advice: string,
  log: (message: string) => void,
  checkpoint: Checkpoint | null,
  minBytes = WORKER_MIN_BYTES,
): PendingScan | null {
  if (fs.statSync(file).size - (checkpoint?.offset ?? 0) < minBytes || dirBytes(tableDir) < minBytes) return null;
  return scanInWorker(file, firstSeq, logKey, advice, log);
}

/** Bytes of the files in `dir` (0 when it does not exist). */
function dirBytes(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let bytes = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile()) bytes += fs.statSync(path.join(dir, entry.name)).size;
  }
  return bytes;
}

/** Removes temp files of the lease table a crash left behind (never named by any snapshot). */
function removeStaleTableTemps(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith('.') && name.endsWith('.tmp')) fs.rmSync(path.join(dir, name), { force: true });
  }
}

function isOlderSnapshot(err: unknown): boolean {
  return isBellaError(err) && (err.details as { reason?: string } | undefined)?.reason === 'older-snapshot';
}

function rollbackError(journal: string, entry: StoredEntry, lastSeq: number): BellaError {
  return new BellaError(
    'unavailable',
    `${journal} holds commits up to ${lastSeq}, but the audit trail records commit ${entry.commit} (entry ${entry.seq}, ${entry.event}): changes that were acknowledged are missing from the state; bella changed nothing: restore the journal, or if you restored a backup on purpose, start with --accept-rollback`,
  );
}
