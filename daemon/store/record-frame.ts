import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import { crc32 } from 'node:zlib';

// The frame every log record is written in (journal, audit trail, lease archive, snapshots), and
// the check that proves a record whole: read by log-scan.ts, appended by record-log.ts.

/**
 * How each record of a log proves it is whole: a CRC-32 of its payload (snapshots, whose file is
 * sealed by a keyed MAC in its last record), or a keyed HMAC-SHA256 chained to the previous
 * record (journal, audit trail, lease archive), so a record cannot be edited, dropped from the
 * middle or reordered without the key.
 */
export type CheckKind = 'crc32' | 'hmac';

/** The check a chain starts from when nothing precedes it. */
export const GENESIS_CHECK = '0'.repeat(64);

/** Options of a log: how its records are checked. */
export interface LogFormat {
  check: CheckKind;
  /** The HMAC key, for `hmac` logs. */
  key?: Buffer | KeyObject;
}

/** Hex digits of a frame's length field. */
export const LEN_DIGITS = 8;

function checkLength(kind: CheckKind): number {
  return kind === 'crc32' ? 8 : 64;
}

/** Bytes of a frame before its payload: length, space, check, space. */
export function frameHeaderBytes(kind: CheckKind): number {
  return LEN_DIGITS + 1 + checkLength(kind) + 1;
}

/** The check of `payload` following `prev` (ignored for CRC logs). */
export function computeCheck(format: LogFormat, prev: string, payload: Buffer): string {
  if (format.check === 'crc32') return crc32(payload).toString(16).padStart(8, '0');
  if (!format.key) throw new Error('an hmac log needs a key');
  return createHmac('sha256', format.key).update(prev).update(payload).digest('hex');
}

/**
 * Whether the check bytes of a frame as read (`written`, still in the file's buffer) are `expected`:
 * keyed hashes are compared in constant time, checksums need not be.
 */
export function checkBytesEqual(kind: CheckKind, written: Buffer, expected: string): boolean {
  if (written.length !== expected.length) return false;
  if (kind === 'crc32') return written.toString('latin1') === expected;
  // Keyed hashes in constant time (a forger must not learn how much of a guess was right).
  return timingSafeEqual(written, Buffer.from(expected, 'latin1'));
}

/**
 * One frame: `<length, 8 hex> <check> <payload>\n`. Payloads never contain a newline (they are
 * JSON text), so a newline after a frame that looks cut short proves it was not the last one.
 */
export function frame(format: LogFormat, prev: string, payload: Payload): { bytes: Buffer; check: string } {
  const { bytes, checks } = frameAll(format, prev, [payload]);
  return { bytes, check: checks[0]! };
}

/**
 * A record's payload: text, bytes, or a source of its text in pieces (a generator function), read
 * twice, once to size the record and once to write each piece into place: no string of the whole
 * payload is built and no piece is kept, so a large record costs its bytes once.
 */
export type Payload = string | Buffer | (() => Iterable<string>);

function payloadBytes(payload: Payload): number {
  if (typeof payload === 'string') return Buffer.byteLength(payload, 'utf8');
  if (Buffer.isBuffer(payload)) return payload.length;
  let n = 0;
  for (const piece of payload()) n += Buffer.byteLength(piece, 'utf8');
  return n;
}

function writePayload(into: Buffer, payload: Payload): void {
  if (typeof payload === 'string') into.write(payload, 0, 'utf8');
  else if (Buffer.isBuffer(payload)) payload.copy(into);
  else {
    let at = 0;
    for (const piece of payload()) at += into.write(piece, at, 'utf8');
    if (at !== into.length) throw new Error('a record payload read twice gave different lengths');
  }
}

/**
 * Frames a batch of payloads chained from `prev`; returns the bytes and each record's check. The
 * batch is one buffer, each payload written (or copied) straight into its place: no buffer of its
 * own per payload, no string of a payload given in pieces, and no copy of the whole batch.
 */
export function frameAll(format: LogFormat, prev: string, payloads: readonly Payload[]): FramedBatch {
  const head = frameHeaderBytes(format.check);
  const lengths = payloads.map((p) => head + payloadBytes(p) + 1);
  let total = 0;
  for (const length of lengths) {
    if (length - head - 1 > 0xffffffff) throw new Error('a log record is limited to 4 GiB');
    total += length;
  }
  const bytes = Buffer.allocUnsafe(total);
  const checks: string[] = [];
  let last = prev;
  let at = 0;
  payloads.forEach((payload, i) => {
    const end = at + lengths[i]! - 1;
    const body = bytes.subarray(at + head, end);
    writePayload(body, payload);
    if (body.includes(0x0a)) throw new Error('a log record payload cannot contain a newline');
    last = computeCheck(format, last, body);
    bytes.write(`${body.length.toString(16).padStart(LEN_DIGITS, '0')} ${last} `, at, 'latin1');
    bytes[end] = 0x0a;
    checks.push(last);
    at = end + 1;
  });
  return { bytes, checks, lengths };
}

/** Records framed for one append: their bytes, and each record's check and frame length. */
export interface FramedBatch {
  bytes: Buffer;
  checks: string[];
  lengths: number[];
}

/** The header payload every log file starts with; `base` is the check the file's chain continues. */
export function headerPayload(log: string, fields: Record<string, unknown>, base = GENESIS_CHECK): string {
  return JSON.stringify({ log, v: 1, base, ...fields });
}

/** Whether `head` is a frame header: hex length, space, hex check, space. */
export function isFrameHeader(head: Buffer, kind: CheckKind): boolean {
  const headerLen = frameHeaderBytes(kind);
  if (head.length < headerLen) return false;
  if (head[LEN_DIGITS] !== 0x20 || head[headerLen - 1] !== 0x20) return false;
  for (let i = 0; i < headerLen - 1; i++) {
    if (i === LEN_DIGITS) continue;
    const b = head[i]!;
    if (!((b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66))) return false;
  }
  return true;
}
