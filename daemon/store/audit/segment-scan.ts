import fs from 'node:fs';
import path from 'node:path';
import { readFully } from '../../base/node/files';
import { logDamage, scanLog, type LogRecord, type ScanResult } from '../log-scan';
import { frameHeaderBytes, GENESIS_CHECK, type LogFormat } from '../record-frame';
import type { AuditHead } from '../snapshot';
import type { Checkpoint } from './checkpoint';
import type { StoredEntry } from './entry';
import { SegmentIndex, type IndexData } from './segment-index';

// The audit trail's newest (active) segment read at start: every frame's keyed hash checked as a
// link of the chain, every entry parsed and indexed. Pure: it changes nothing on disk, so it can
// run in a worker thread while the lease table is read (./scan-worker.ts).

/** Segment files: `<first seq, 12 digits>.log`. */
export const SEGMENT_NAME = /^(\d{12})\.log$/;

/** The trail's segment files, oldest first (none when the directory does not exist). */
export function segmentNames(dir: string): string[] {
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((n) => SEGMENT_NAME.test(n))
        .sort()
    : [];
}

/** The newest segment as read: where its whole records end, its index, its chain. */
export interface ScannedSegment {
  file: string;
  firstSeq: number;
  scan: ScanResult;
  index: SegmentIndex;
  /** The check its header continues the chain from (the previous segment's last entry). */
  base: string;
  head: AuditHead;
  /** Its entries after the `keepAfter` it was scanned with, as objects. */
  entries: StoredEntry[];
}

/** A {@link ScannedSegment} as a worker posts it (its index's rows transferred, no entries kept). */
export interface ScannedSegmentData {
  file: string;
  firstSeq: number;
  scan: ScanResult;
  index: IndexData;
  base: string;
  head: AuditHead;
}

/**
 * Scans segment `file` (first entry `firstSeq`) whole, or from its `checkpoint` on (a clean
 * close's index of it, taken as the index's prefix: its frames are not checked again): a frame
 * that fails its keyed hash, an entry that is not one, a sequence gap or a header naming another
 * segment throws (naming the file and offset); a torn tail is reported in `scan.end`. Only entries
 * after `keepAfter` are kept as objects.
 */
export function scanSegment(
  file: string,
  firstSeq: number,
  format: LogFormat,
  advice: string,
  keepAfter: number,
  sizing: { chunkBytes?: number; rows?: number } = {},
  checkpoint: Checkpoint | null = null,
): ScannedSegment {
  // Indexed as it is scanned: no copy of a record's bytes.
  const index = checkpoint ? SegmentIndex.fromData(checkpoint.index) : new SegmentIndex(firstSeq, sizing.rows);
  const entries = checkpoint ? readEntriesAfter(file, index, frameHeaderBytes(format.check), advice, keepAfter) : [];
  let expected = index.lastSeq + 1;
  const from = checkpoint && {
    offset: checkpoint.offset,
    check: checkpoint.head.check,
    header: { log: 'audit', baseSeq: firstSeq - 1, base: checkpoint.base },
    count: index.count,
  };
  const scan = scanLog(file, format, {
    advice,
    keep: false,
    chunkBytes: sizing.chunkBytes,
    from: from ?? undefined,
    visit: (record) => {
      if (record.offset === 0) {
        if (!isSegmentHeader(record, firstSeq))
          throw logDamage(file, 0, 'it is not the audit segment its name says', advice);
        return;
      }
      const entry = parseEntry(record, file, advice);
      if (entry.seq !== expected) {
        throw logDamage(file, record.offset, `entry ${entry.seq} where ${expected} was expected`, advice);
      }
      expected++;
      index.add(entry, record.offset, record.frameBytes);
      if (entry.seq > keepAfter) entries.push(entry);
    },
  });
  const header = scan.header as { base?: unknown };
  if (scan.end === 0) throw logDamage(file, 0, 'it has no header (the file was cut)', advice);
  const base = typeof header.base === 'string' ? header.base : GENESIS_CHECK;
  const head = scan.count ? { seq: expected - 1, check: scan.lastCheck } : { seq: firstSeq - 1, check: base };
  return { file, firstSeq, scan, index, base, head, entries };
}

/** What a worker posts of a scan (the index's rows are to be transferred). */
export function toData(s: ScannedSegment): { data: ScannedSegmentData; transfer: ArrayBuffer[] } {
  const { data: index, transfer } = s.index.toData();
  return { data: { file: s.file, firstSeq: s.firstSeq, scan: s.scan, index, base: s.base, head: s.head }, transfer };
}

/**
 * A scan a worker posted, with its entries after `keepAfter` read back from the segment through
 * the index (the worker checked their frames; these are the entries since the last commit).
 */
export function fromData(d: ScannedSegmentData, format: LogFormat, advice: string, keepAfter: number): ScannedSegment {
  const index = SegmentIndex.fromData(d.index);
  return { ...d, index, entries: readEntriesAfter(d.file, index, frameHeaderBytes(format.check), advice, keepAfter) };
}

/** The entries of an indexed segment after `seq`, oldest first, read in one pass. */
function readEntriesAfter(
  file: string,
  index: SegmentIndex,
  headerBytes: number,
  advice: string,
  seq: number,
): StoredEntry[] {
  const from = Math.max(seq + 1, index.firstSeq);
  const first = index.locate(from);
  if (!first) return [];
  const end = index.segmentBytes;
  const bytes = Buffer.allocUnsafe(end - first.offset);
  const fd = fs.openSync(file, 'r');
  try {
    if (readFully(fd, bytes, first.offset).length < bytes.length) {
      throw new Error(`${file} became shorter while it was read`);
    }
  } finally {
    fs.closeSync(fd);
  }
  const entries: StoredEntry[] = [];
  for (let s = from; s <= index.lastSeq; s++) {
    const { offset, length } = index.locate(s)!;
    const frame = bytes.subarray(offset - first.offset, offset - first.offset + length);
    const payload = frame.subarray(headerBytes, frame[length - 1] === 0x0a ? length - 1 : length);
    entries.push(parseEntry({ offset, frameBytes: length, payload, check: '' }, file, advice));
  }
  return entries;
}

/** The segment of `name` in `dir`: its path and first entry. */
export function segmentFile(dir: string, name: string): { file: string; firstSeq: number } {
  return { file: path.join(dir, name), firstSeq: Number(SEGMENT_NAME.exec(name)![1]) };
}

/** Whether a segment's header record names it as the audit segment after entry `firstSeq - 1`. */
function isSegmentHeader(record: LogRecord, firstSeq: number): boolean {
  try {
    const header = JSON.parse(record.payload.toString('utf8')) as { log?: unknown; baseSeq?: unknown };
    return header.log === 'audit' && header.baseSeq === firstSeq - 1;
  } catch {
    return false;
  }
}

export function parseEntry(record: LogRecord, file: string, advice: string): StoredEntry {
  try {
    const entry = JSON.parse(record.payload.toString('utf8')) as StoredEntry;
    if (typeof entry.seq !== 'number' || typeof entry.event !== 'string' || typeof entry.ts !== 'string') {
      throw new Error('not an entry');
    }
    return entry;
  } catch {
    throw logDamage(file, record.offset, 'an entry is not a valid audit entry', advice);
  }
}
