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
 * A record's payload: text, bytes, bytes in pieces (see {@link PayloadChunks}) written one after
 * the other, or a function giving its text, called twice (to size the batch, then to write it),
 * so that a batch of many records keeps no string of each while it is framed.
 */
export type Payload = string | Buffer | readonly Buffer[] | (() => string);

function payloadBytes(payload: Payload): number {
  if (typeof payload === 'function') return Buffer.byteLength(payload(), 'utf8');
  if (typeof payload === 'string') return Buffer.byteLength(payload, 'utf8');
  if (Buffer.isBuffer(payload)) return payload.length;
  let n = 0;
  for (const piece of payload as readonly Buffer[]) n += piece.length;
  return n;
}

function writePayload(into: Buffer, payload: Payload): void {
  if (typeof payload === 'function') {
    if (into.write(payload(), 0, 'utf8') !== into.length) throw new Error('a record payload changed while framed');
  } else if (typeof payload === 'string') into.write(payload, 0, 'utf8');
  else if (Buffer.isBuffer(payload)) payload.copy(into);
  else {
    let at = 0;
    for (const piece of payload as readonly Buffer[]) at += piece.copy(into, at);
  }
}

/**
 * A large record's text built piece by piece into chunks outside the JS heap: each piece (one
 * change's JSON…) is garbage as soon as it is added, so a commit of 10,000 changes keeps neither a
 * string of the whole record nor one string per change. Chunks start small and double up to
 * `maxChunkBytes`: most records (one issue's commit) are a few KB, and a 256 KB buffer per commit
 * would count as external memory that V8 collects for.
 */
export class PayloadChunks {
  private readonly chunks: Buffer[] = [];
  private chunk: Buffer | null = null;
  private at = 0;
  private nextBytes: number;

  constructor(private readonly maxChunkBytes = 256 * 1024) {
    this.nextBytes = Math.min(4096, maxChunkBytes);
  }

  add(piece: string | Buffer): void {
    if (typeof piece !== 'string') {
      this.copy(piece);
      return;
    }
    // Most pieces are short: written in place when they surely fit (at most 3 bytes a UTF-16 unit).
    if (this.chunk && piece.length * 3 <= this.chunk.length - this.at) {
      this.at += this.chunk.write(piece, this.at, 'utf8');
      return;
    }
    this.copy(Buffer.from(piece, 'utf8'));
  }

  private copy(bytes: Buffer): void {
    let from = 0;
    while (from < bytes.length) {
      if (!this.chunk || this.at === this.chunk.length) this.next();
      const n = bytes.copy(this.chunk!, this.at, from);
      this.at += n;
      from += n;
    }
  }

  private next(): void {
    if (this.chunk) this.chunks.push(this.chunk.subarray(0, this.at));
    this.chunk = Buffer.allocUnsafeSlow(this.nextBytes);
    this.nextBytes = Math.min(this.nextBytes * 2, this.maxChunkBytes);
    this.at = 0;
  }

  /** The pieces written, as one payload. */
  payload(): Buffer[] {
    return this.chunk ? [...this.chunks, this.chunk.subarray(0, this.at)] : [...this.chunks];
  }
}

/** The payload of each record of a framed batch, in order (views into its bytes). */
export function* payloadsOf(batch: FramedBatch): Generator<Buffer> {
  let at = 0;
  for (let i = 0; i < batch.lengths.length; i++) {
    const length = batch.lengths[i]!;
    const head = LEN_DIGITS + 1 + batch.checks[i]!.length + 1;
    yield batch.bytes.subarray(at + head, at + length - 1);
    at += length;
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
