import fs from 'node:fs';
import { writeFileDurable } from '../../base/node/files';
import { Bloom, LegacyBloom } from './bloom';
import { eventCode, hash32, hash32Env, outcomeCode, type StoredEntry } from './entry';

/**
 * The index of one audit segment, so `audit list` filtered by lease, project, environment, event,
 * outcome or time is served newest first without reading every entry: a 32-byte row per entry
 * (where its frame is, its time, hashes of its lease/project/environment, its event and outcome),
 * a summary (time range, masks, Bloom filters sized by the segment's distinct values) that lets
 * whole segments be skipped, and the lease postings (lease hash, row) sorted, so one lease's rows
 * are found by a binary search instead of a pass over every row. It is derived from the segment
 * and rebuilt from it whenever it is missing or does not match.
 *
 * File: `BIDX0002`, the summary's length (u32), the summary (JSON), the lease, project and
 * environment filters, the rows, the postings. Format 1 (`BIDX0001`, written before: fixed
 * two-probe filters of 65,536 and 4,096 bits, no postings) is still read.
 */
export const ROW_BYTES = 32;
/** A lease posting: the lease hash (u32) and the row of an entry naming it (u32). */
const POSTING_BYTES = 8;
/** Rows below this are sorted as packed numbers (hash × this + row stays below 2^53). */
const PACKED_ROWS = 2 ** 21;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const MAGIC = 'BIDX0002';
const MAGIC_V1 = 'BIDX0001';
/** Format 1's filter sizes (lease, project, environment). */
const V1_BLOOM_BITS = [1 << 16, 1 << 12, 1 << 12] as const;

/** What a query asks for; hashes are computed once per query. */
export interface IndexFilter {
  project?: string;
  environment?: string;
  event?: string;
  outcome?: string;
  lease?: string;
  /** `owner`, `token`, `daemon`, `ci:NAME`, or a person's name (any of her devices). */
  actor?: string;
  /** ms since the epoch, inclusive. */
  since?: number;
  /** ms since the epoch, exclusive. */
  until?: number;
}

/** A filter with its hashes and codes. */
export interface CompiledFilter {
  filter: IndexFilter;
  project: number;
  env: number;
  lease: number;
  event: number;
  outcome: number;
}

export function compileFilter(filter: IndexFilter): CompiledFilter {
  return {
    filter,
    project: filter.project ? hash32(filter.project) : 0,
    env: filter.project && filter.environment ? hash32Env(filter.project, filter.environment) : 0,
    lease: filter.lease ? hash32(filter.lease) : 0,
    event: filter.event ? eventCode(filter.event) : 0,
    outcome: filter.outcome ? outcomeCode(filter.outcome) : 0,
  };
}

/** True when a stored entry satisfies the filter exactly (rows only match by hash). */
export function entryMatches(entry: StoredEntry, filter: IndexFilter): boolean {
  if (filter.project && entry.project !== filter.project) return false;
  if (filter.environment && entry.environment !== filter.environment) return false;
  if (filter.event && entry.event !== filter.event) return false;
  if (filter.outcome && entry.outcome !== filter.outcome) return false;
  if (filter.lease && entry.leaseId !== filter.lease) return false;
  // A person's entries read `NAME (device sha256:…)`: her name alone finds all her devices.
  if (filter.actor && entry.actor !== filter.actor && !entry.actor.startsWith(`${filter.actor} (device `)) return false;
  const ts = Date.parse(entry.ts);
  if (filter.since !== undefined && ts < filter.since) return false;
  if (filter.until !== undefined && ts >= filter.until) return false;
  return true;
}

interface Summary {
  firstSeq: number;
  count: number;
  tsMin: number;
  tsMax: number;
  events: number;
  outcomes: number;
  /** Bytes of the segment the index covers. */
  segmentBytes: number;
  /** Format 2: bits of the lease, project and environment filters (format 1: fixed sizes). */
  blooms?: [number, number, number];
  /** Format 2: how many lease postings follow the rows. */
  postings?: number;
}

/** True when the row at `at` of `block` passes the filter's hashes, codes and time window. */
function rowMatches(block: Buffer, at: number, f: CompiledFilter): boolean {
  if (f.lease && block.readUInt32LE(at + 16) !== f.lease) return false;
  if (f.project && block.readUInt32LE(at + 20) !== f.project) return false;
  if (f.env && block.readUInt32LE(at + 24) !== f.env) return false;
  if (f.event && block[at + 28] !== f.event) return false;
  if (f.outcome && block[at + 29] !== f.outcome) return false;
  const ts = block.readDoubleLE(at + 8);
  if (f.filter.since !== undefined && ts < f.filter.since) return false;
  if (f.filter.until !== undefined && ts >= f.filter.until) return false;
  return true;
}

type Row = { seq: number; offset: number; length: number };

/** An active segment's index as plain data, for a worker to post (`rows` transferred, not copied). */
export interface IndexData {
  summary: Summary;
  rows: ArrayBuffer;
  /** The distinct lease, project and environment hashes. */
  keys: [Uint32Array, Uint32Array, Uint32Array];
}

/** The index of one segment: rows in memory (the active segment) or in its `.idx` file (sealed). */
export class SegmentIndex {
  private rows: Buffer;
  /** The active segment's distinct lease, project and environment hashes (exact; null once sealed). */
  private keys: [Set<number>, Set<number>, Set<number>] | null = [new Set(), new Set(), new Set()];
  /** A sealed segment's filters of the same (null while active). */
  private blooms: [Bloom, Bloom, Bloom] | null = null;
  private summary: Summary;
  /** Set for a sealed segment whose rows are read from its file. */
  private file: string | null = null;
  private rowsOffset = 0;
  /** Where the lease postings start in the file; 0 for format 1, which has none. */
  private postingsOffset = 0;

  /** `rows`: room for this many rows to start with (grown by doubling when more come). */
  constructor(firstSeq: number, rows = 64) {
    this.rows = Buffer.alloc(Math.max(64, rows) * ROW_BYTES);
    this.summary = { firstSeq, count: 0, tsMin: Infinity, tsMax: -Infinity, events: 0, outcomes: 0, segmentBytes: 0 };
  }

  get firstSeq(): number {
    return this.summary.firstSeq;
  }

  get count(): number {
    return this.summary.count;
  }

  get lastSeq(): number {
    return this.summary.firstSeq + this.summary.count - 1;
  }

  get segmentBytes(): number {
    return this.summary.segmentBytes;
  }

  /** The index as plain data (an active segment's only), and the buffers to transfer with it. */
  toData(): { data: IndexData; transfer: ArrayBuffer[] } {
    if (this.file || !this.keys) throw new Error('a sealed segment index is not posted');
    const rows = this.rows;
    // Buffer.alloc gives a buffer of its own (not a slice of the pool): it is moved, not copied.
    const own = rows.byteOffset === 0 && rows.byteLength === rows.buffer.byteLength;
    const buffer = (
      own ? rows.buffer : rows.buffer.slice(rows.byteOffset, rows.byteOffset + rows.length)
    ) as ArrayBuffer;
    const keys = this.keys.map((set) => Uint32Array.from(set)) as IndexData['keys'];
    return {
      data: { summary: this.summary, rows: buffer, keys },
      transfer: [buffer, ...keys.map((k) => k.buffer as ArrayBuffer)],
    };
  }

  /** An index from {@link toData}'s data. */
  static fromData(data: IndexData): SegmentIndex {
    const index = new SegmentIndex(data.summary.firstSeq);
    index.summary = { ...data.summary };
    index.rows = Buffer.from(data.rows);
    index.keys = data.keys.map((k) => new Set(k)) as [Set<number>, Set<number>, Set<number>];
    return index;
  }

  /** Adds the row of the next entry, whose frame starts at `offset` and is `length` bytes long. */
  add(entry: StoredEntry, offset: number, length: number): void {
    const s = this.summary;
    if (this.file || !this.keys) throw new Error('a sealed segment index cannot grow');
    if ((s.count + 1) * ROW_BYTES > this.rows.length) {
      const grown = Buffer.alloc(this.rows.length * 2);
      this.rows.copy(grown);
      this.rows = grown;
    }
    const at = s.count * ROW_BYTES;
    const ts = Date.parse(entry.ts);
    const lease = entry.leaseId ? hash32(entry.leaseId) : 0;
    const project = entry.project ? hash32(entry.project) : 0;
    const env = entry.project && entry.environment ? hash32Env(entry.project, entry.environment) : 0;
    const event = eventCode(entry.event);
    const outcome = outcomeCode(entry.outcome);
    this.rows.writeUInt32LE(offset, at);
    this.rows.writeUInt32LE(length, at + 4);
    this.rows.writeDoubleLE(ts, at + 8);
    this.rows.writeUInt32LE(lease, at + 16);
    this.rows.writeUInt32LE(project, at + 20);
    this.rows.writeUInt32LE(env, at + 24);
    this.rows[at + 28] = event;
    this.rows[at + 29] = outcome;
    if (lease) this.keys[0].add(lease);
    if (project) this.keys[1].add(project);
    if (env) this.keys[2].add(env);
    s.events |= 1 << event;
    s.outcomes |= 1 << outcome;
    s.tsMin = Math.min(s.tsMin, ts);
    s.tsMax = Math.max(s.tsMax, ts);
    s.count++;
    s.segmentBytes = offset + length;
  }

  /**
   * Forgets the rows after the first `count` (entries written but never made durable, taken back
   * off the segment), which ended at byte `segmentBytes`. The filters may still name their keys:
   * they only ever say "may hold".
   */
  truncate(count: number, segmentBytes: number): void {
    if (this.file || !this.keys) throw new Error('a sealed segment index cannot change');
    this.summary.count = Math.min(this.summary.count, count);
    this.summary.segmentBytes = segmentBytes;
  }

  /** Whether the segment may hold hash `h` of kind `which` (0 lease, 1 project, 2 environment). */
  private mayHold(which: 0 | 1 | 2, h: number): boolean {
    return this.keys ? this.keys[which].has(h) : this.blooms![which].has(h);
  }

  /** False when no entry of the segment can match (a segment skipped whole). */
  mayMatch(f: CompiledFilter): boolean {
    const s = this.summary;
    if (s.count === 0) return false;
    if (f.filter.since !== undefined && s.tsMax < f.filter.since) return false;
    if (f.filter.until !== undefined && s.tsMin >= f.filter.until) return false;
    if (f.event && (s.events & (1 << f.event)) === 0) return false;
    if (f.outcome && (s.outcomes & (1 << f.outcome)) === 0) return false;
    if (f.lease && !this.mayHold(0, f.lease)) return false;
    if (f.project && !this.mayHold(1, f.project)) return false;
    if (f.env && !this.mayHold(2, f.env)) return false;
    return true;
  }

  /**
   * The rows that may match, newest first, below `beforeSeq`: `{ seq, offset, length }`. Rows of a
   * sealed segment are read from its file in blocks, so memory stays bounded; a lease filter on a
   * sealed segment with postings reads only that lease's rows.
   */
  *candidates(f: CompiledFilter, beforeSeq = Infinity): Generator<Row> {
    if (f.lease && this.file && this.postingsOffset) {
      yield* this.leaseCandidates(f, beforeSeq);
      return;
    }
    const s = this.summary;
    const last = Math.min(s.count, beforeSeq - s.firstSeq);
    const BLOCK = 4096;
    for (let end = last; end > 0; end -= BLOCK) {
      const start = Math.max(0, end - BLOCK);
      const block = this.readRows(start, end - start);
      for (let i = end - start - 1; i >= 0; i--) {
        const at = i * ROW_BYTES;
        if (!rowMatches(block, at, f)) continue;
        yield { seq: s.firstSeq + start + i, offset: block.readUInt32LE(at), length: block.readUInt32LE(at + 4) };
      }
    }
  }

  private *leaseCandidates(f: CompiledFilter, beforeSeq: number): Generator<Row> {
    const s = this.summary;
    const fd = fs.openSync(this.file!, 'r');
    try {
      const rows = this.leaseRows(fd, f.lease);
      const row = Buffer.alloc(ROW_BYTES);
      for (let k = rows.length - 1; k >= 0; k--) {
        const i = rows[k]!;
        if (s.firstSeq + i >= beforeSeq) continue;
        fs.readSync(fd, row, 0, ROW_BYTES, this.rowsOffset + i * ROW_BYTES);
        if (!rowMatches(row, 0, f)) continue;
        yield { seq: s.firstSeq + i, offset: row.readUInt32LE(0), length: row.readUInt32LE(4) };
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  /** The rows (ascending) whose lease hash is `h`: a binary search of the postings, then a read forward. */
  private leaseRows(fd: number, h: number): number[] {
    const total = this.summary.postings ?? 0;
    const at = (i: number) => this.postingsOffset + i * POSTING_BYTES;
    const one = Buffer.alloc(4);
    let lo = 0;
    let hi = total;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      fs.readSync(fd, one, 0, 4, at(mid));
      if (one.readUInt32LE(0) < h) lo = mid + 1;
      else hi = mid;
    }
    const out: number[] = [];
    const BLOCK = 512;
    const block = Buffer.alloc(BLOCK * POSTING_BYTES);
    for (let from = lo; from < total; from += BLOCK) {
      const n = Math.min(BLOCK, total - from);
      fs.readSync(fd, block, 0, n * POSTING_BYTES, at(from));
      for (let j = 0; j < n; j++) {
        if (block.readUInt32LE(j * POSTING_BYTES) !== h) return out;
        out.push(block.readUInt32LE(j * POSTING_BYTES + 4));
      }
    }
    return out;
  }

  /** Where the frame of entry `seq` is. */
  locate(seq: number): { offset: number; length: number } | null {
    const i = seq - this.summary.firstSeq;
    if (i < 0 || i >= this.summary.count) return null;
    const row = this.readRows(i, 1);
    return { offset: row.readUInt32LE(0), length: row.readUInt32LE(4) };
  }

  private readRows(start: number, count: number): Buffer {
    if (!this.file) return this.rows.subarray(start * ROW_BYTES, (start + count) * ROW_BYTES);
    const out = Buffer.alloc(count * ROW_BYTES);
    const fd = fs.openSync(this.file, 'r');
    try {
      fs.readSync(fd, out, 0, out.length, this.rowsOffset + start * ROW_BYTES);
    } finally {
      fs.closeSync(fd);
    }
    return out;
  }

  /** The lease postings of the rows: (hash, row) sorted by hash, then row. */
  private postings(): Buffer {
    const count = this.summary.count;
    if (count >= PACKED_ROWS) return this.postingsByComparator();
    // Each (hash, row) as one exact number, hash × 2^21 + row (< 2^53), sorted without a comparator.
    const packed = new Float64Array(count);
    let n = 0;
    for (let i = 0; i < count; i++) {
      const h = this.rows.readUInt32LE(i * ROW_BYTES + 16);
      if (h) packed[n++] = h * PACKED_ROWS + i;
    }
    const sorted = packed.subarray(0, n).sort();
    const out = Buffer.alloc(n * POSTING_BYTES);
    for (let j = 0; j < n; j++) {
      const h = Math.floor(sorted[j]! / PACKED_ROWS);
      out.writeUInt32LE(h, j * POSTING_BYTES);
      out.writeUInt32LE(sorted[j]! - h * PACKED_ROWS, j * POSTING_BYTES + 4);
    }
    return out;
  }

  /** {@link postings} for a segment of 2^21 rows or more. */
  private postingsByComparator(): Buffer {
    const count = this.summary.count;
    const hashes = new Uint32Array(count);
    const order = new Uint32Array(count);
    let n = 0;
    for (let i = 0; i < count; i++) {
      hashes[i] = this.rows.readUInt32LE(i * ROW_BYTES + 16);
      if (hashes[i]) order[n++] = i;
    }
    const sorted = order.subarray(0, n).sort((a, b) => hashes[a]! - hashes[b]! || a - b);
    const out = Buffer.alloc(n * POSTING_BYTES);
    sorted.forEach((row, j) => {
      out.writeUInt32LE(hashes[row]!, j * POSTING_BYTES);
      out.writeUInt32LE(row, j * POSTING_BYTES + 4);
    });
    return out;
  }

  /**
   * Writes the index of a now sealed segment to `file` and serves its rows from there. Its steps
   * (filters, postings, the write) run on separate turns of the event loop, so requests are
   * served between them; the segment must not grow meanwhile.
   */
  async seal(file: string): Promise<void> {
    if (!this.keys) throw new Error('this segment index is sealed already');
    const blooms = this.keys.map((set) => {
      const bloom = Bloom.forKeys(set.size);
      for (const h of set) bloom.add(h);
      return bloom;
    }) as [Bloom, Bloom, Bloom];
    await nextTurn();
    const postings = this.postings();
    await nextTurn();
    const summary: Summary = {
      ...this.summary,
      blooms: [blooms[0].bits, blooms[1].bits, blooms[2].bits],
      postings: postings.length / POSTING_BYTES,
    };
    const header = Buffer.from(JSON.stringify(summary));
    const head = Buffer.alloc(12);
    head.write(MAGIC, 0, 'latin1');
    head.writeUInt32LE(header.length, 8);
    const rows = this.rows.subarray(0, this.summary.count * ROW_BYTES);
    const filters = blooms.map((b) => b.bytes());
    await writeFileDurable(file, Buffer.concat([head, header, ...filters, rows, postings]));
    this.summary = summary;
    this.file = file;
    this.rowsOffset = 12 + header.length + filters.reduce((n, b) => n + b.length, 0);
    this.postingsOffset = this.rowsOffset + rows.length;
    this.blooms = blooms;
    this.keys = null;
    this.rows = Buffer.alloc(0);
  }

  /**
   * Loads a sealed segment's index (its summary and filters; rows and postings stay on disk), or
   * null when the file is missing, of an unknown format, or does not describe a segment of
   * `segmentBytes` bytes from `firstSeq` on.
   */
  static load(file: string, firstSeq: number, segmentBytes: number): SegmentIndex | null {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      return null;
    }
    try {
      const head = Buffer.alloc(12);
      if (fs.readSync(fd, head, 0, 12, 0) !== 12) return null;
      const magic = head.toString('latin1', 0, 8);
      if (magic !== MAGIC && magic !== MAGIC_V1) return null;
      const headerLength = head.readUInt32LE(8);
      if (headerLength > 4096) return null;
      const header = Buffer.alloc(headerLength);
      fs.readSync(fd, header, 0, headerLength, 12);
      const summary = JSON.parse(header.toString('utf8')) as Summary;
      if (summary.firstSeq !== firstSeq || summary.segmentBytes !== segmentBytes) return null;
      const v1 = magic === MAGIC_V1;
      const bits = v1 ? V1_BLOOM_BITS : summary.blooms;
      const postings = v1 ? 0 : summary.postings;
      if (!Array.isArray(bits) || bits.length !== 3 || !bits.every(isFilterSize)) return null;
      if (!Number.isInteger(postings) || postings! < 0 || postings! > summary.count) return null;
      const filters = Buffer.alloc(bits.reduce((n, b) => n + b / 8, 0));
      fs.readSync(fd, filters, 0, filters.length, 12 + headerLength);
      let from = 0;
      const blooms = bits.map((b) => {
        const words = new Uint32Array(b / 32);
        words.set(new Uint32Array(filters.buffer, filters.byteOffset + from, b / 32));
        from += b / 8;
        return v1 ? new LegacyBloom(b, words) : new Bloom(b, 7, words);
      }) as [Bloom, Bloom, Bloom];
      const rowsOffset = 12 + headerLength + filters.length;
      const postingsOffset = rowsOffset + summary.count * ROW_BYTES;
      if (fs.fstatSync(fd).size !== postingsOffset + postings! * POSTING_BYTES) return null;
      const index = new SegmentIndex(firstSeq);
      index.summary = summary;
      index.file = file;
      index.rowsOffset = rowsOffset;
      index.postingsOffset = v1 ? 0 : postingsOffset;
      index.blooms = blooms;
      index.keys = null;
      index.rows = Buffer.alloc(0);
      return index;
    } catch {
      return null;
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** A filter size read from a file: a power of two from 1,024 to 2^26 bits. */
function isFilterSize(bits: unknown): bits is number {
  return (
    typeof bits === 'number' && Number.isInteger(bits) && bits >= 1024 && bits <= 2 ** 26 && (bits & (bits - 1)) === 0
  );
}
