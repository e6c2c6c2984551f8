import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import { crc32 } from 'node:zlib';
import { BellaError } from '../api';
import { writeFileDurable } from '../base/node/files';

/**
 * How each record of a log proves it is whole: a CRC-32 of its payload (snapshots, whose file is
 * sealed by a keyed MAC in its last record), or a keyed HMAC-SHA256 chained to the previous
 * record (journal, audit trail, lease archive), so a record cannot be edited, dropped from the
 * middle or reordered without the key.
 */
export type CheckKind = 'crc32' | 'hmac';

/** The check a chain starts from when nothing precedes it. */
export const GENESIS_CHECK = '0'.repeat(64);

/** A record found by {@link scanLog}: where it is, its payload and its check. */
export interface LogRecord {
  /** Byte offset of the frame in the file. */
  offset: number;
  /** Bytes of the whole frame, newline included when present. */
  frameBytes: number;
  payload: Buffer;
  /** The frame's check as written (hex). */
  check: string;
}

/** What {@link scanLog} found in a file. */
export interface ScanResult {
  /** The header record's payload, parsed. */
  header: Record<string, unknown>;
  /** Records after the header, in order. */
  records: LogRecord[];
  /** The check of the last whole record (the header's when there is none). */
  lastCheck: string;
  /** Where the whole records end; anything after is a torn tail. */
  end: number;
  /** Size of the file when scanned. */
  size: number;
  /** The last record is whole but its trailing newline never reached the disk. */
  missingNewline: boolean;
}

/** A damaged log: refused at start, naming the file and byte offset; nothing is moved or deleted. */
export function logDamage(file: string, offset: number, why: string, advice: string): BellaError {
  return new BellaError(
    'unavailable',
    `${file} is damaged at byte ${offset}: ${why}; bella changed nothing and will not start on it: ${advice}`,
    { file, offset },
  );
}

/** Options of a log: how its records are checked. */
export interface LogFormat {
  check: CheckKind;
  /** The HMAC key, for `hmac` logs. */
  key?: Buffer | KeyObject;
}

const LEN_DIGITS = 8;

function checkLength(kind: CheckKind): number {
  return kind === 'crc32' ? 8 : 64;
}

function frameHeaderBytes(kind: CheckKind): number {
  return LEN_DIGITS + 1 + checkLength(kind) + 1;
}

/** The check of `payload` following `prev` (ignored for CRC logs). */
export function computeCheck(format: LogFormat, prev: string, payload: Buffer): string {
  if (format.check === 'crc32') return crc32(payload).toString(16).padStart(8, '0');
  if (!format.key) throw new Error('an hmac log needs a key');
  return createHmac('sha256', format.key).update(prev).update(payload).digest('hex');
}

/** Whether a frame's check is right; keyed hashes are compared in constant time, checksums need not be. */
function checksEqual(kind: CheckKind, a: string, b: string): boolean {
  if (kind === 'crc32') return a === b;
  return a.length === b.length && timingSafeEqual(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));
}

/**
 * One frame: `<length, 8 hex> <check> <payload>\n`. Payloads never contain a newline (they are
 * JSON text), so a newline after a frame that looks cut short proves it was not the last one.
 */
export function frame(format: LogFormat, prev: string, payload: string | Buffer): { bytes: Buffer; check: string } {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  if (body.length > 0xffffffff) throw new Error('a log record is limited to 4 GiB');
  if (body.includes(0x0a)) throw new Error('a log record payload cannot contain a newline');
  const check = computeCheck(format, prev, body);
  const headBytes = LEN_DIGITS + check.length + 2;
  const bytes = Buffer.allocUnsafe(headBytes + body.length + 1);
  bytes.write(`${body.length.toString(16).padStart(LEN_DIGITS, '0')} ${check} `, 0, 'latin1');
  body.copy(bytes, headBytes);
  bytes[bytes.length - 1] = 0x0a;
  return { bytes, check };
}

/** Frames a batch of payloads chained from `prev`; returns the bytes and each record's check. */
export function frameAll(format: LogFormat, prev: string, payloads: Array<string | Buffer>): FramedBatch {
  const parts: Buffer[] = [];
  const checks: string[] = [];
  let last = prev;
  for (const payload of payloads) {
    const f = frame(format, last, payload);
    parts.push(f.bytes);
    checks.push(f.check);
    last = f.check;
  }
  return { bytes: Buffer.concat(parts), checks, lengths: parts.map((p) => p.length) };
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

const CHUNK = 1 << 20;

/**
 * Reads a file forward through one buffer, reused: scanning a file of any size allocates nothing
 * per chunk. Offsets asked for never go backwards; a slice is valid until the next call.
 */
class ChunkReader {
  private buf = Buffer.allocUnsafe(CHUNK);
  /** The file offset of `buf[0]`, and how many bytes of `buf` hold the file from there. */
  private bufStart = 0;
  private bufLength = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  /** Bytes `[offset, offset + length)` (fewer if the file ends first). */
  slice(offset: number, length: number): Buffer {
    const end = Math.min(offset + length, this.size);
    if (end > this.bufStart + this.bufLength) this.fill(offset, end);
    return this.buf.subarray(offset - this.bufStart, end - this.bufStart);
  }

  /** Moves what is held from `offset` on to the front (a bigger buffer if needed) and reads on to `end`. */
  private fill(offset: number, end: number): void {
    const keepFrom = Math.min(offset - this.bufStart, this.bufLength);
    const kept = this.bufLength - keepFrom;
    if (end - offset > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(end - offset, 2 * this.buf.length));
      this.buf.copy(bigger, 0, keepFrom, this.bufLength);
      this.buf = bigger;
    } else {
      this.buf.copyWithin(0, keepFrom, this.bufLength);
    }
    this.bufStart = offset;
    this.bufLength = kept;
    while (this.bufStart + this.bufLength < end) {
      const at = this.bufStart + this.bufLength;
      const n = fs.readSync(
        this.fd,
        this.buf,
        this.bufLength,
        Math.min(this.buf.length - this.bufLength, this.size - at),
        at,
      );
      if (n === 0) break;
      this.bufLength += n;
    }
  }
}

/**
 * True when everything from `offset` to the end of the file can be what a crash left of the last
 * frame written: a prefix of a frame (hex length, space, hex check, space, payload without a
 * newline), possibly followed by zeros where the file grew but its data never reached the disk.
 * A newline, or anything else, after that point means later records exist: that is damage.
 */
function isTornTail(reader: ChunkReader, offset: number, kind: CheckKind): boolean {
  const headerLen = frameHeaderBytes(kind);
  let zeros = false;
  for (let at = offset; at < reader.size; at += CHUNK) {
    const bytes = reader.slice(at, Math.min(CHUNK, reader.size - at));
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      const pos = at - offset + i;
      if (zeros || b === 0) {
        if (b !== 0) return false;
        zeros = true;
      } else if (b === 0x0a) {
        return false;
      } else if (pos < headerLen) {
        const separator = pos === LEN_DIGITS || pos === headerLen - 1;
        const hex = (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66);
        if (separator ? b !== 0x20 : !hex) return false;
      }
    }
  }
  return true;
}

/**
 * Reads a log file record by record, checking each frame. A tail that a crash cut short (an
 * incomplete frame, or zeros where the file grew but its data never reached the disk) is
 * reported in `end`; a whole record whose check fails, a frame that is not one, or a chain that
 * does not continue is damage, thrown as {@link logDamage}. A whole last record missing only its
 * newline is kept: it was complete, and may have been acknowledged.
 */
export function scanLog(
  file: string,
  format: LogFormat,
  options: {
    advice: string;
    /** Called for every whole frame, the header's included (offset 0); `raw` is valid during the call only. */
    visit?: (record: LogRecord, raw: Buffer) => void;
    /** Keep the records in the result (default true); false for files too large to hold. */
    keep?: boolean;
  },
): ScanResult {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const reader = new ChunkReader(fd, size);
    const headerLen = frameHeaderBytes(format.check);
    const damage = (offset: number, why: string) => logDamage(file, offset, why, options.advice);
    const records: LogRecord[] = [];
    let header: Record<string, unknown> | null = null;
    let prev = GENESIS_CHECK;
    let offset = 0;
    let missingNewline = false;
    while (offset < size) {
      const head = reader.slice(offset, headerLen);
      if (head.length < headerLen || !isFrameHeader(head, format.check)) {
        if (isTornTail(reader, offset, format.check)) break;
        throw damage(offset, 'not a bella record frame');
      }
      const length = parseInt(head.toString('latin1', 0, LEN_DIGITS), 16);
      const check = head.toString('latin1', LEN_DIGITS + 1, headerLen - 1);
      if (offset + headerLen + length > size) {
        // The last frame written, cut short by a crash: it was never acknowledged.
        if (isTornTail(reader, offset, format.check)) break;
        throw damage(offset, 'a record is longer than the rest of the file');
      }
      // The frame and the newline after it, in one slice: the reader may reuse its buffer on the next.
      const frame = reader.slice(offset, headerLen + length + 1);
      const slice = frame.subarray(headerLen, headerLen + length);
      // Kept records get their own copy; a visitor's payload is valid during the call only.
      const payload = options.keep === false ? slice : Buffer.from(slice);
      if (header === null) {
        try {
          header = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
        } catch {
          throw damage(offset, 'its header is not valid JSON');
        }
        if (typeof header.base === 'string' && /^[0-9a-f]{64}$/.test(header.base)) prev = header.base;
      }
      if (!checksEqual(format.check, check, computeCheck(format, prev, payload))) {
        throw damage(
          offset,
          format.check === 'hmac'
            ? 'a record does not match its keyed hash (it was edited, or a record before it was removed)'
            : 'a record does not match its checksum (it was edited or corrupted)',
        );
      }
      let frameBytes = headerLen + length;
      if (offset + frameBytes === size) missingNewline = true;
      else if (frame[frameBytes] !== 0x0a) throw damage(offset + frameBytes, 'a record is not followed by a newline');
      else frameBytes += 1;
      const record: LogRecord = { offset, frameBytes, payload, check };
      options.visit?.(record, frame.subarray(0, frameBytes));
      if (offset > 0 && options.keep !== false) records.push(record);
      prev = check;
      offset += frameBytes;
    }
    if (header === null) {
      return { header: {}, records: [], lastCheck: GENESIS_CHECK, end: 0, size, missingNewline: false };
    }
    return { header, records, lastCheck: prev, end: offset, size, missingNewline };
  } finally {
    fs.closeSync(fd);
  }
}

function isFrameHeader(head: Buffer, kind: CheckKind): boolean {
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

/**
 * An append-only log file: framed, checked records after a header record. Appends are batches
 * written with one write and one fdatasync; a batch that fails is cut back off the file so it
 * stays a clean sequence of whole records. Only one batch is written at a time (the store's
 * commit pipeline is its only writer). Before and after each batch the path is checked to still
 * name the open file, with the size this log wrote ({@link problem}), so a log swapped or edited
 * under the running daemon is refused rather than appended to unseen.
 */
export class RecordLog {
  private writing = false;

  private constructor(
    readonly file: string,
    private readonly format: LogFormat,
    private fd: number,
    private _size: number,
    private _lastCheck: string,
    private _records: number,
  ) {}

  /** Creates the file atomically with its header record (replacing any file there). */
  static async create(file: string, format: LogFormat, header: string): Promise<RecordLog> {
    const base = (JSON.parse(header) as { base?: string }).base ?? GENESIS_CHECK;
    const f = frame(format, base, header);
    await writeFileDurable(file, f.bytes);
    return RecordLog.attach(file, format, f.bytes.length, f.check, 0);
  }

  /**
   * Opens an existing log after {@link scanLog}: cuts a torn tail off and restores a missing final
   * newline (both were never acknowledged as such), then appends after the last whole record.
   */
  static open(file: string, format: LogFormat, scan: ScanResult): RecordLog {
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_APPEND);
    try {
      let size = scan.end;
      if (scan.size !== scan.end) fs.ftruncateSync(fd, scan.end);
      if (scan.missingNewline) {
        fs.writeSync(fd, '\n');
        size += 1;
      }
      if (scan.size !== scan.end || scan.missingNewline) fs.fdatasyncSync(fd);
      return new RecordLog(file, format, fd, size, scan.lastCheck, scan.records.length);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  private static attach(file: string, format: LogFormat, size: number, lastCheck: string, records: number): RecordLog {
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_APPEND);
    return new RecordLog(file, format, fd, size, lastCheck, records);
  }

  /** Bytes of whole records on disk. */
  get size(): number {
    return this._size;
  }

  /** The check of the last record on disk, which the next one chains from. */
  get lastCheck(): string {
    return this._lastCheck;
  }

  /** Records after the header. */
  get records(): number {
    return this._records;
  }

  /** Frames `payloads` as the next records without writing them (their checks, in order). */
  prepare(payloads: Array<string | Buffer>): FramedBatch {
    return frameAll(this.format, this._lastCheck, payloads);
  }

  /**
   * Appends a batch framed by {@link prepare} from the current tail and makes it durable. A failed
   * write is cut back off the file and rethrown; a file swapped or edited meanwhile is refused.
   */
  async append(batch: FramedBatch): Promise<void> {
    if (batch.checks.length === 0) return;
    if (this.writing) throw new Error(`${this.file}: only one batch may be written at a time`);
    this.writing = true;
    try {
      this.assertSameFile();
      try {
        await writeAll(this.fd, batch.bytes);
        await new Promise<void>((resolve, reject) => fs.fdatasync(this.fd, (e) => (e ? reject(e) : resolve())));
      } catch (err) {
        try {
          fs.ftruncateSync(this.fd, this._size);
        } catch {
          /* the next batch fails the same way and is refused too */
        }
        throw err;
      }
      // Swapped while the batch was written: it went to a file no reader sees, so it is refused
      // (and left where it is: the bytes after ours, if any, are not ours to cut).
      this.assertSameFile(this._size + batch.bytes.length);
      this._size += batch.bytes.length;
      this._lastCheck = batch.checks.at(-1)!;
      this._records += batch.checks.length;
    } finally {
      this.writing = false;
    }
  }

  /**
   * Why the path no longer names what this log wrote, or null: the file was removed, replaced by
   * another (copied and renamed over it, as logrotate and `sed -i` do: another device or inode
   * than the open one), or written by someone else (its size is not the `size` this log wrote).
   * Appending then would hide entries from every reader, or chain them to bytes bella never wrote.
   * While a batch is being written its size is not known from outside, so only the file is compared.
   */
  problem(size: number | null = this.writing ? null : this._size): BellaError | null {
    const open = fs.fstatSync(this.fd, { bigint: true });
    let named: fs.BigIntStats | null;
    try {
      named = fs.statSync(this.file, { bigint: true });
    } catch {
      named = null;
    }
    const what =
      named === null
        ? 'removed'
        : named.dev !== open.dev || named.ino !== open.ino
          ? 'replaced by another file (copied and renamed over it, as logrotate or sed -i do)'
          : size !== null && open.size !== BigInt(size)
            ? `changed by another program (${open.size} bytes where bella wrote ${size})`
            : null;
    if (what === null) return null;
    return new BellaError(
      'unavailable',
      `${this.file} was ${what} while the daemon was running; bella stopped writing to it and refuses requests that must be audited: restore it, then restart the daemon (bella daemon stop && bella daemon start), which checks it`,
      { file: this.file },
    );
  }

  /** Throws {@link problem}, if there is one. */
  assertSameFile(size?: number): void {
    const problem = this.problem(size);
    if (problem) throw problem;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

function writeAll(fd: number, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    let offset = 0;
    const step = () =>
      fs.write(fd, data, offset, data.length - offset, null, (err, written) => {
        if (err) return reject(err);
        offset += written;
        if (offset < data.length) step();
        else resolve();
      });
    step();
  });
}
