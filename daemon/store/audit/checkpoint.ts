import { createHmac, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readFully, removeStaleTemps, writeFileDurable } from '../../base/node/files';
import { frameHeaderBytes, LEN_DIGITS } from '../record-frame';
import type { AuditHead } from '../snapshot';
import { ROW_BYTES, type IndexData } from './segment-index';

// The active segment's index as a clean close left it (docs/decisions.md, "Cold start, seventh
// round (cold7)"): a start takes its rows as the index's prefix and scans only the frames after
// it. It carries the chain hash that scan continues from, so it is authenticated with the log key.
//
// File `audit/active.ckpt`: `BCKP0001`, the header's length (u32), the header (JSON: the segment's
// name, where the covered frames end, the last covered entry and its check, the segment's base,
// the index's summary, how many distinct hashes of each kind follow), the index's rows, the
// distinct lease, project and environment hashes (u32 each), then HMAC-SHA256 with the log key
// over every byte before it.

const MAGIC = 'BCKP0001';
const MAC_BYTES = 32;
const MAC_CONTEXT = 'bella audit checkpoint\n';

/** What a checkpoint holds: the active segment's index up to `offset`, and the chain there. */
export interface Checkpoint {
  /** The segment's file name (`<first seq>.log`). */
  segment: string;
  /** Bytes of the segment the index covers: the next frame starts here. */
  offset: number;
  /** The last entry covered and its check (what the next frame links to). */
  head: AuditHead;
  /** The check the segment's header continues from. */
  base: string;
  index: IndexData;
}

interface Header {
  segment: string;
  offset: number;
  head: AuditHead;
  base: string;
  summary: IndexData['summary'];
  keys: [number, number, number];
}

/** Where a trail in `dir` keeps its checkpoint. */
export function checkpointFile(dir: string): string {
  return path.join(dir, 'active.ckpt');
}

/** Removes the checkpoint of the trail in `dir`, and any temp file of one a crash left. */
export function removeCheckpoint(dir: string): void {
  const file = checkpointFile(dir);
  fs.rmSync(file, { force: true });
  if (fs.existsSync(dir)) removeStaleTemps(file);
}

function mac(key: Buffer, bytes: Buffer): Buffer {
  return createHmac('sha256', key).update(MAC_CONTEXT).update(bytes).digest();
}

/** Writes `checkpoint` durably (a temp file renamed over the old one, then the directory synced). */
export async function writeCheckpoint(file: string, checkpoint: Checkpoint, key: Buffer): Promise<void> {
  const { index } = checkpoint;
  const header: Header = {
    segment: checkpoint.segment,
    offset: checkpoint.offset,
    head: checkpoint.head,
    base: checkpoint.base,
    summary: index.summary,
    keys: [index.keys[0].length, index.keys[1].length, index.keys[2].length],
  };
  const json = Buffer.from(JSON.stringify(header));
  const head = Buffer.alloc(12);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(json.length, 8);
  const rows = Buffer.from(index.rows, 0, index.summary.count * ROW_BYTES);
  const keys = index.keys.map((k) => Buffer.from(k.buffer, k.byteOffset, k.byteLength));
  const body = Buffer.concat([head, json, rows, ...keys]);
  await writeFileDurable(file, Buffer.concat([body, mac(key, body)]));
}

/**
 * The checkpoint in `file` if it can be used for segment `segmentPath` as it is now; otherwise
 * null, with why in `reject` (not called when there is no checkpoint at all). Usable: its MAC
 * checks with `key`, it names that segment, the segment is at least as long as it covers, and the
 * frame there ends where it says, holding the check it names.
 */
export function readCheckpoint(
  file: string,
  segmentPath: string,
  key: Buffer,
  reject: (why: string) => void,
): Checkpoint | null {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    return null;
  }
  try {
    const why = unusable(bytes, segmentPath, key);
    if (typeof why === 'string') {
      reject(why);
      return null;
    }
    return why;
  } catch (err) {
    reject(`it could not be read (${(err as Error).message})`);
    return null;
  }
}

function unusable(bytes: Buffer, segmentPath: string, key: Buffer): Checkpoint | string {
  if (bytes.length < 12 + MAC_BYTES || bytes.toString('latin1', 0, 8) !== MAGIC) return 'it is not a checkpoint';
  const body = bytes.subarray(0, bytes.length - MAC_BYTES);
  if (!timingSafeEqual(mac(key, body), bytes.subarray(body.length))) return 'its keyed MAC does not match';
  const jsonLength = body.readUInt32LE(8);
  const header = JSON.parse(body.toString('utf8', 12, 12 + jsonLength)) as Header;
  if (header.segment !== path.basename(segmentPath)) return `it is of segment ${header.segment}, not the newest`;
  const size = fs.statSync(segmentPath).size;
  if (size < header.offset) return `the segment is shorter (${size} bytes) than it covers (${header.offset})`;
  const { summary } = header;
  let at = 12 + jsonLength;
  const rows = new Uint8Array(summary.count * ROW_BYTES);
  rows.set(body.subarray(at, at + rows.length));
  at += rows.length;
  const keys = header.keys.map((n) => {
    const k = new Uint32Array(n);
    new Uint8Array(k.buffer).set(body.subarray(at, at + n * 4));
    at += n * 4;
    return k;
  }) as IndexData['keys'];
  const firstSeq = Number(header.segment.slice(0, 12));
  if (
    at !== body.length ||
    summary.count === 0 ||
    summary.firstSeq !== firstSeq ||
    summary.segmentBytes !== header.offset ||
    header.head.seq !== firstSeq + summary.count - 1
  )
    return 'it is malformed';
  const lastRow = Buffer.from(rows.buffer, (summary.count - 1) * ROW_BYTES, ROW_BYTES);
  const lastFrame = { offset: lastRow.readUInt32LE(0), length: lastRow.readUInt32LE(4) };
  if (
    lastFrame.offset + lastFrame.length !== header.offset ||
    writtenCheck(segmentPath, lastFrame.offset) !== header.head.check
  )
    return 'the segment does not hold the entry it ends with';
  return {
    segment: header.segment,
    offset: header.offset,
    head: header.head,
    base: header.base,
    index: { summary, rows: rows.buffer, keys },
  };
}

/** The check written in the frame at `offset` of an HMAC-chained log. */
function writtenCheck(file: string, offset: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const head = readFully(fd, Buffer.alloc(frameHeaderBytes('hmac')), offset);
    return head.toString('latin1', LEN_DIGITS + 1, head.length - 1);
  } finally {
    fs.closeSync(fd);
  }
}
