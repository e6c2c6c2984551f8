import fs from 'node:fs';
import path from 'node:path';
import type { AuditEntry, BellaError } from '../../api';
import { iso } from '../../base/common/time';
import { ensurePrivateDir } from '../../base/node/files';
import { logDamage, scanLog, type ScanResult } from '../log-scan';
import { GENESIS_CHECK, headerPayload, type FramedBatch, type LogFormat, type Payload } from '../record-frame';
import { RecordLog } from '../record-log';
import type { AuditHead } from '../snapshot';
import { checkpointFile, writeCheckpoint, type Checkpoint } from './checkpoint';
import { storedEntry, toAuditEntry, type AuditInput, type StoredEntry } from './entry';
import { compileFilter, entryMatches, SegmentIndex, type IndexFilter } from './segment-index';
import { parseEntry, scanSegment, segmentFile, segmentNames, type ScannedSegment } from './segment-scan';

/** Segments are sealed and a new one started once the active one reaches this size. */
export const DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024;

/** Entries framed and chained, ready to be written (and first put in the journal with their commit). */
/** Entries in a batch above which their JSON is not held while it is framed. */
const LARGE_BATCH = 256;

export interface PreparedEntries {
  entries: StoredEntry[];
  batch: FramedBatch;
  /** The head once they are written. */
  head: AuditHead;
}

interface Segment {
  file: string;
  indexFile: string;
  index: SegmentIndex;
}

/** What {@link AuditTrail.read} found, before anything is changed on disk. */
export interface TrailScan {
  dir: string;
  sealed: Array<{ file: string; index: SegmentIndex | null; firstSeq: number }>;
  /**
   * The newest segment, scanned whole and indexed; its entries after the `keepAfter` given to
   * {@link AuditTrail.read} (those since the last commit); null when there is none yet.
   */
  active: {
    file: string;
    scan: ScanResult;
    index: SegmentIndex;
    entries: StoredEntry[];
    firstSeq: number;
    base: string;
  } | null;
  head: AuditHead;
}

function segmentName(firstSeq: number): string {
  return String(firstSeq).padStart(12, '0');
}

/**
 * The audit trail: HMAC-chained entries in segment files (`audit/<first seq>.log`), each
 * segment's header chained to the previous segment's last entry, and a `.idx` per sealed segment.
 * Appends go to the active segment only; the store's commit pipeline is its one writer.
 */
export class AuditTrail {
  private readonly segments: Segment[] = [];
  /** The index writes of sealed segments, one after another (never rejects). */
  private sealing: Promise<void> = Promise.resolve();
  /** Where the active segment's index stood before entries added but not yet durable, or null. */
  private unsynced: { count: number; bytes: number } | null = null;

  private constructor(
    readonly dir: string,
    private readonly format: LogFormat,
    private active: RecordLog,
    /** The check of the entry before the active segment's first: where its chain continues from. */
    private activeBase: string,
    private readonly segmentBytes: number,
  ) {}

  /**
   * Reads the trail without changing it: every segment's index summary (sealed segments) and
   * the newest segment in full (its entries, its torn tail if a crash left one). Damage in the
   * newest segment, or a chain that does not continue from one segment to the next, throws.
   */
  static read(
    dir: string,
    format: LogFormat,
    advice: string,
    keepAfter = 0,
    scanned?: ScannedSegment,
    checkpoint: Checkpoint | null = null,
  ): TrailScan {
    const names = segmentNames(dir);
    const sealed: TrailScan['sealed'] = [];
    for (const name of names.slice(0, -1)) {
      const { file, firstSeq } = segmentFile(dir, name);
      const index = SegmentIndex.load(file.replace(/\.log$/, '.idx'), firstSeq, fs.statSync(file).size);
      sealed.push({ file, index, firstSeq });
    }
    const last = names.at(-1);
    if (!last) return { dir, sealed, active: null, head: { seq: 0, check: GENESIS_CHECK } };
    const { file, firstSeq } = segmentFile(dir, last);
    // Scanned already (in a worker, while the lease table was read) when it is this same file.
    const active =
      scanned && scanned.file === file
        ? scanned
        : scanSegment(file, firstSeq, format, advice, keepAfter, {}, checkpoint?.segment === last ? checkpoint : null);
    const { scan, index, entries, base, head } = active;
    return { dir, sealed, active: { file, scan, index, entries, firstSeq, base }, head };
  }

  /**
   * Opens a trail that {@link read} accepted: cuts a torn tail off the active segment, rebuilds
   * any missing index of a sealed segment, and creates the first segment of a new trail.
   */
  static async open(
    read: TrailScan,
    format: LogFormat,
    advice: string,
    segmentBytes = DEFAULT_SEGMENT_BYTES,
  ): Promise<AuditTrail> {
    ensurePrivateDir(read.dir);
    const segments: Segment[] = [];
    for (const s of read.sealed) {
      const indexFile = s.file.replace(/\.log$/, '.idx');
      let index = s.index;
      if (!index) {
        index = indexSegment(s.file, format, advice, s.firstSeq);
        await index.seal(indexFile);
      }
      segments.push({ file: s.file, indexFile, index });
    }
    let active: RecordLog;
    let index: SegmentIndex;
    let file: string;
    let base = GENESIS_CHECK;
    if (read.active) {
      file = read.active.file;
      base = read.active.base;
      active = RecordLog.open(file, format, read.active.scan);
      index = read.active.index;
    } else {
      file = path.join(read.dir, `${segmentName(1)}.log`);
      active = await RecordLog.create(file, format, headerPayload('audit', { baseSeq: 0 }));
      index = new SegmentIndex(1);
    }
    const trail = new AuditTrail(read.dir, format, active, base, segmentBytes);
    trail.segments.push(...segments, { file, indexFile: file.replace(/\.log$/, '.idx'), index });
    return trail;
  }

  /** The last entry written. */
  get head(): AuditHead {
    const index = this.activeSegment.index;
    // A segment without entries yet continues the chain of the one before it.
    return { seq: index.firstSeq + index.count - 1, check: index.count ? this.active.lastCheck : this.activeBase };
  }

  private get activeSegment(): Segment {
    return this.segments.at(-1)!;
  }

  /**
   * Numbers, times and chains `inputs` after the current head. `commit` tags entries written
   * with a journal commit, so a trail that holds a commit its journal lost is noticed at start.
   */
  prepare(inputs: AuditInput[], now: number, commit?: number): PreparedEntries {
    let seq = this.head.seq;
    const nowIso = iso(now);
    const entries = inputs.map((input) => storedEntry(input, ++seq, nowIso, commit));
    return this.frame(entries);
  }

  /** Frames already numbered entries (a commit's entries completed from the journal at start-up). */
  frame(entries: StoredEntry[]): PreparedEntries {
    // A large batch (an expiry of 10,000 leases) is serialised twice rather than kept as one string per entry.
    const large = entries.length > LARGE_BATCH;
    const batch = this.active.prepare(
      entries.map((e): Payload => (large ? () => JSON.stringify(e) : JSON.stringify(e))),
    );
    const head = entries.length ? { seq: entries.at(-1)!.seq, check: batch.checks.at(-1)! } : this.head;
    return { entries, batch, head };
  }

  /** Writes prepared entries durably, indexes them, and starts a new segment when this one is full. */
  async write(prepared: PreparedEntries): Promise<void> {
    this.add(prepared);
    await this.sync();
    if (this.rotationDue) await (await this.rotate()).indexed;
  }

  /**
   * Writes prepared entries into the active segment and indexes them, not yet durably: readers
   * see them and the head moves past them; {@link sync} makes them durable. A failed write
   * leaves the segment and the head as they were and throws.
   */
  add(prepared: PreparedEntries): void {
    if (prepared.entries.length === 0) return;
    const start = this.active.size;
    this.active.write(prepared.batch);
    const index = this.activeSegment.index;
    this.unsynced ??= { count: index.count, bytes: index.segmentBytes };
    let offset = start;
    prepared.entries.forEach((entry, i) => {
      const length = prepared.batch.lengths[i]!;
      index.add(entry, offset, length);
      offset += length;
    });
  }

  /**
   * Whether the active segment is full: it is replaced ({@link rotate}) once its entries are
   * durable, before anything more is prepared (entries prepared before that would chain from the
   * wrong segment).
   */
  get rotationDue(): boolean {
    return this.active.size >= this.segmentBytes;
  }

  /** Whether entries were added that are not durable yet. */
  get pending(): boolean {
    return this.unsynced !== null;
  }

  /**
   * Makes the entries added so far durable (one fdatasync). If they cannot be made durable they
   * are taken back: off the segment and its index, the head where it was before them; the error
   * is rethrown. A full segment is not replaced here: the caller answers first, then
   * {@link rotate}s.
   */
  async sync(): Promise<void> {
    const mark = this.unsynced;
    if (mark) {
      try {
        await this.active.sync();
      } catch (err) {
        this.activeSegment.index.truncate(mark.count, mark.bytes);
        throw err;
      } finally {
        this.unsynced = null;
      }
    }
  }

  /**
   * Seals the full active segment and starts the next one, whose header continues the chain:
   * the next segment is created durably first, then the sealed one's index is written in the
   * background (it is derived from the segment, rebuilt at start when missing, and served from
   * memory until written), so no entry waits for it. Every entry added must be durable. Resolves
   * once the next segment is there, with the index write, which may fail (the index is then
   * rebuilt at the next start).
   */
  async rotate(): Promise<{ indexed: Promise<void> }> {
    if (this.unsynced) throw new Error('the audit segment has entries not yet durable');
    const current = this.activeSegment;
    const head = this.head;
    const file = path.join(this.dir, `${segmentName(head.seq + 1)}.log`);
    const next = await RecordLog.create(file, this.format, headerPayload('audit', { baseSeq: head.seq }, head.check));
    this.active.close();
    this.active = next;
    this.activeBase = head.check;
    this.segments.push({ file, indexFile: file.replace(/\.log$/, '.idx'), index: new SegmentIndex(head.seq + 1) });
    const indexed = this.sealing.then(() => current.index.seal(current.indexFile));
    this.sealing = indexed.catch(() => undefined);
    return { indexed };
  }

  /** Resolves once no index of a sealed segment is still being written. */
  async indexed(): Promise<void> {
    await this.sealing;
  }

  /** Throws when the active segment was replaced, edited or removed under the running daemon. */
  assertSameFile(): void {
    this.active.assertSameFile();
  }

  /** Why the active segment cannot be written (see {@link RecordLog.problem}), or null. */
  problem(): BellaError | null {
    return this.active.problem();
  }

  /**
   * Entries matching `filter`, newest first, below `before`, at most `limit`; `nextCursor` is
   * the `before` for the next page, or null when nothing older matches.
   */
  query(filter: IndexFilter, limit: number, before?: number): { entries: AuditEntry[]; nextCursor: number | null } {
    const compiled = compileFilter(filter);
    const out: AuditEntry[] = [];
    for (let s = this.segments.length - 1; s >= 0; s--) {
      const segment = this.segments[s]!;
      if (before !== undefined && segment.index.firstSeq >= before) continue;
      if (!segment.index.mayMatch(compiled)) continue;
      const fd = fs.openSync(segment.file, 'r');
      try {
        for (const row of segment.index.candidates(compiled, before)) {
          const { entry, check } = readFrame(fd, row.offset, row.length, this.format);
          if (!entryMatches(entry, filter)) continue;
          if (out.length === limit) return { entries: out, nextCursor: out.at(-1)!.seq };
          out.push(toAuditEntry(entry, check));
        }
      } finally {
        fs.closeSync(fd);
      }
    }
    return { entries: out, nextCursor: null };
  }

  /** Segments in the trail, and how many a query with `filter` would read rows of (the rest are skipped whole). */
  filterStats(filter: IndexFilter): { segments: number; segments_read: number } {
    const compiled = compileFilter(filter);
    const read = this.segments.filter((s) => s.index.mayMatch(compiled)).length;
    return { segments: this.segments.length, segments_read: read };
  }

  /** The stored entry `seq` and its check, or null when the trail does not hold it. */
  entryAt(seq: number): { entry: StoredEntry; check: string } | null {
    const segment = this.segments.findLast((s) => s.index.firstSeq <= seq);
    const where = segment?.index.locate(seq);
    if (!segment || !where) return null;
    const fd = fs.openSync(segment.file, 'r');
    try {
      return readFrame(fd, where.offset, where.length, this.format);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Every stored entry after `seq`, oldest first (entries since the last anchored commit). */
  *entriesAfter(seq: number): Generator<StoredEntry> {
    for (let s = seq + 1; s <= this.head.seq; s++) {
      const found = this.entryAt(s);
      if (found) yield found.entry;
    }
  }

  /** The segment files, oldest first, for verification. */
  segmentFiles(): string[] {
    return this.segments.map((s) => s.file);
  }

  /**
   * Writes the active segment's index and chain head as a checkpoint (a clean close: nothing is
   * added after it), so the next start scans only what follows. Not written while entries are not
   * durable, for a segment without entries, nor for one replaced or changed under the daemon.
   */
  async checkpoint(key: Buffer): Promise<void> {
    const index = this.activeSegment.index;
    if (this.unsynced || index.count === 0 || index.segmentBytes !== this.active.size || this.problem()) return;
    await writeCheckpoint(
      checkpointFile(this.dir),
      {
        segment: path.basename(this.activeSegment.file),
        offset: index.segmentBytes,
        head: this.head,
        base: this.activeBase,
        index: index.toData().data,
      },
      key,
    );
  }

  close(): void {
    this.active.close();
  }
}

function readFrame(
  fd: number,
  offset: number,
  length: number,
  format: LogFormat,
): { entry: StoredEntry; check: string } {
  const buf = Buffer.alloc(length);
  fs.readSync(fd, buf, 0, length, offset);
  const checkLength = format.check === 'crc32' ? 8 : 64;
  const check = buf.toString('latin1', 9, 9 + checkLength);
  const payload = buf.subarray(9 + checkLength + 1, buf[length - 1] === 0x0a ? length - 1 : length);
  return { entry: JSON.parse(payload.toString('utf8')) as StoredEntry, check };
}

/** Builds the index of a sealed segment by reading it (its `.idx` was missing or stale). */
function indexSegment(file: string, format: LogFormat, advice: string, firstSeq: number): SegmentIndex {
  const index = new SegmentIndex(firstSeq);
  const scan = scanLog(file, format, {
    advice,
    keep: false,
    visit: (record) => {
      if (record.offset === 0) return;
      index.add(parseEntry(record, file, advice), record.offset, record.frameBytes);
    },
  });
  if (scan.end !== scan.size)
    throw logDamage(file, scan.end, 'a sealed segment ends in the middle of an entry', advice);
  return index;
}
