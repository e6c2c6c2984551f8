import fs from 'node:fs';
import { writeFileDurable } from '../../base/node/files';
import { eventCode, hash32, outcomeCode, type StoredEntry } from './entry';

/**
 * The index of one audit segment, so `audit list` filtered by lease, project, environment, event,
 * outcome or time is served newest first without reading every entry: a 32-byte row per entry
 * (where its frame is, its time, hashes of its lease/project/environment, its event and outcome)
 * and a summary (time range, masks, Bloom filters) that lets whole segments be skipped. It is
 * derived from the segment and rebuilt from it whenever it is missing or does not match.
 */
export const ROW_BYTES = 32;
const MAGIC = 'BIDX0001';
const LEASE_BLOOM_BITS = 1 << 16;
const SCOPE_BLOOM_BITS = 1 << 12;

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
    env: filter.project && filter.environment ? hash32(`${filter.project}/${filter.environment}`) : 0,
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

function bloomAdd(bits: Uint32Array, size: number, h: number): void {
  const a = h & (size - 1);
  const b = Math.imul(h, 0x9e3779b1) >>> (32 - Math.log2(size));
  bits[a >>> 5]! |= 1 << (a & 31);
  bits[b >>> 5]! |= 1 << (b & 31);
}

function bloomHas(bits: Uint32Array, size: number, h: number): boolean {
  const a = h & (size - 1);
  const b = Math.imul(h, 0x9e3779b1) >>> (32 - Math.log2(size));
  return (bits[a >>> 5]! & (1 << (a & 31))) !== 0 && (bits[b >>> 5]! & (1 << (b & 31))) !== 0;
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
}

/** The index of one segment: rows in memory (the active segment) or in its `.idx` file (sealed). */
export class SegmentIndex {
  private rows: Buffer;
  private readonly leaseBloom = new Uint32Array(LEASE_BLOOM_BITS / 32);
  private readonly projectBloom = new Uint32Array(SCOPE_BLOOM_BITS / 32);
  private readonly envBloom = new Uint32Array(SCOPE_BLOOM_BITS / 32);
  private summary: Summary;
  /** Set for a sealed segment whose rows are read from its file. */
  private file: string | null = null;
  private rowsOffset = 0;

  constructor(firstSeq: number) {
    this.rows = Buffer.alloc(64 * ROW_BYTES);
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

  /** Adds the row of the next entry, whose frame starts at `offset` and is `length` bytes long. */
  add(entry: StoredEntry, offset: number, length: number): void {
    const s = this.summary;
    if (this.file) throw new Error('a sealed segment index cannot grow');
    if ((s.count + 1) * ROW_BYTES > this.rows.length) {
      const grown = Buffer.alloc(this.rows.length * 2);
      this.rows.copy(grown);
      this.rows = grown;
    }
    const at = s.count * ROW_BYTES;
    const ts = Date.parse(entry.ts);
    const lease = entry.leaseId ? hash32(entry.leaseId) : 0;
    const project = entry.project ? hash32(entry.project) : 0;
    const env = entry.project && entry.environment ? hash32(`${entry.project}/${entry.environment}`) : 0;
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
    if (lease) bloomAdd(this.leaseBloom, LEASE_BLOOM_BITS, lease);
    if (project) bloomAdd(this.projectBloom, SCOPE_BLOOM_BITS, project);
    if (env) bloomAdd(this.envBloom, SCOPE_BLOOM_BITS, env);
    s.events |= 1 << event;
    s.outcomes |= 1 << outcome;
    s.tsMin = Math.min(s.tsMin, ts);
    s.tsMax = Math.max(s.tsMax, ts);
    s.count++;
    s.segmentBytes = offset + length;
  }

  /** False when no entry of the segment can match (a segment skipped whole). */
  mayMatch(f: CompiledFilter): boolean {
    const s = this.summary;
    if (s.count === 0) return false;
    if (f.filter.since !== undefined && s.tsMax < f.filter.since) return false;
    if (f.filter.until !== undefined && s.tsMin >= f.filter.until) return false;
    if (f.event && (s.events & (1 << f.event)) === 0) return false;
    if (f.outcome && (s.outcomes & (1 << f.outcome)) === 0) return false;
    if (f.lease && !bloomHas(this.leaseBloom, LEASE_BLOOM_BITS, f.lease)) return false;
    if (f.project && !bloomHas(this.projectBloom, SCOPE_BLOOM_BITS, f.project)) return false;
    if (f.env && !bloomHas(this.envBloom, SCOPE_BLOOM_BITS, f.env)) return false;
    return true;
  }

  /**
   * The rows that may match, newest first, below `beforeSeq`: `{ seq, offset, length }`. Rows of a
   * sealed segment are read from its file in blocks, so memory stays bounded.
   */
  *candidates(f: CompiledFilter, beforeSeq = Infinity): Generator<{ seq: number; offset: number; length: number }> {
    const s = this.summary;
    const last = Math.min(s.count, beforeSeq - s.firstSeq);
    const BLOCK = 4096;
    for (let end = last; end > 0; end -= BLOCK) {
      const start = Math.max(0, end - BLOCK);
      const block = this.readRows(start, end - start);
      for (let i = end - start - 1; i >= 0; i--) {
        const at = i * ROW_BYTES;
        if (f.lease && block.readUInt32LE(at + 16) !== f.lease) continue;
        if (f.project && block.readUInt32LE(at + 20) !== f.project) continue;
        if (f.env && block.readUInt32LE(at + 24) !== f.env) continue;
        if (f.event && block[at + 28] !== f.event) continue;
        if (f.outcome && block[at + 29] !== f.outcome) continue;
        const ts = block.readDoubleLE(at + 8);
        if (f.filter.since !== undefined && ts < f.filter.since) continue;
        if (f.filter.until !== undefined && ts >= f.filter.until) continue;
        yield { seq: s.firstSeq + start + i, offset: block.readUInt32LE(at), length: block.readUInt32LE(at + 4) };
      }
    }
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

  /** Writes the index of a now sealed segment to `file` and serves its rows from there. */
  async seal(file: string): Promise<void> {
    const header = Buffer.from(JSON.stringify(this.summary));
    const head = Buffer.alloc(12);
    head.write(MAGIC, 0, 'latin1');
    head.writeUInt32LE(header.length, 8);
    const rows = this.rows.subarray(0, this.summary.count * ROW_BYTES);
    await writeFileDurable(
      file,
      Buffer.concat([
        head,
        header,
        Buffer.from(this.leaseBloom.buffer),
        Buffer.from(this.projectBloom.buffer),
        Buffer.from(this.envBloom.buffer),
        rows,
      ]),
    );
    this.file = file;
    this.rowsOffset = 12 + header.length + (LEASE_BLOOM_BITS + 2 * SCOPE_BLOOM_BITS) / 8;
    this.rows = Buffer.alloc(0);
  }

  /**
   * Loads a sealed segment's index (its summary and filters; rows stay on disk), or null when the
   * file is missing or does not describe a segment of `segmentBytes` bytes from `firstSeq` on.
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
      if (fs.readSync(fd, head, 0, 12, 0) !== 12 || head.toString('latin1', 0, 8) !== MAGIC) return null;
      const headerLength = head.readUInt32LE(8);
      if (headerLength > 4096) return null;
      const header = Buffer.alloc(headerLength);
      fs.readSync(fd, header, 0, headerLength, 12);
      const summary = JSON.parse(header.toString('utf8')) as Summary;
      if (summary.firstSeq !== firstSeq || summary.segmentBytes !== segmentBytes) return null;
      const index = new SegmentIndex(firstSeq);
      const blooms = Buffer.alloc((LEASE_BLOOM_BITS + 2 * SCOPE_BLOOM_BITS) / 8);
      fs.readSync(fd, blooms, 0, blooms.length, 12 + headerLength);
      const words = new Uint32Array(blooms.buffer, blooms.byteOffset, blooms.length / 4);
      index.leaseBloom.set(words.subarray(0, LEASE_BLOOM_BITS / 32));
      index.projectBloom.set(words.subarray(LEASE_BLOOM_BITS / 32, (LEASE_BLOOM_BITS + SCOPE_BLOOM_BITS) / 32));
      index.envBloom.set(words.subarray((LEASE_BLOOM_BITS + SCOPE_BLOOM_BITS) / 32));
      const rowsOffset = 12 + headerLength + blooms.length;
      if (fs.fstatSync(fd).size !== rowsOffset + summary.count * ROW_BYTES) return null;
      index.summary = summary;
      index.file = file;
      index.rowsOffset = rowsOffset;
      index.rows = Buffer.alloc(0);
      return index;
    } catch {
      return null;
    } finally {
      fs.closeSync(fd);
    }
  }
}
