import fs from 'node:fs';
import { BellaError } from '../api/errors';
import {
  checkBytesEqual,
  computeCheck,
  frameHeaderBytes,
  GENESIS_CHECK,
  isFrameHeader,
  LEN_DIGITS,
  type CheckKind,
  type LogFormat,
} from './record-frame';

// Reading a log back at start: every frame checked, a torn tail told apart from damage.

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
  /** Records after the header, in order (none when not kept). */
  records: LogRecord[];
  /** How many records follow the header, kept or not. */
  count: number;
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

const CHUNK = 1 << 20;

/**
 * Reads a file forward through one buffer, reused: scanning a file of any size allocates nothing
 * per chunk. Offsets asked for never go backwards; a slice is valid until the next call.
 */
export class ChunkReader {
  /** The file offset of `buf[0]`, and how many bytes of `buf` hold the file from there. */
  private bufStart = 0;
  private bufLength = 0;

  /** `buf`, when given, is read into (a caller reading many files passes one buffer to all). */
  constructor(
    private readonly fd: number,
    readonly size: number,
    private buf = Buffer.allocUnsafe(CHUNK),
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
    /** Bytes read at a time (default 1 MiB; a frame longer than that is read whole). */
    chunkBytes?: number;
    /**
     * Scan from `offset` on, as if the records before it (`count` after `header`, the last with
     * check `check`) had been read: a frame there must link to `check`.
     */
    from?: { offset: number; check: string; header: Record<string, unknown>; count: number };
  },
): ScanResult {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const reader = new ChunkReader(fd, size, Buffer.allocUnsafe(options.chunkBytes ?? CHUNK));
    const headerLen = frameHeaderBytes(format.check);
    const damage = (offset: number, why: string) => logDamage(file, offset, why, options.advice);
    const records: LogRecord[] = [];
    const from = options.from;
    let count = from?.count ?? 0;
    let header: Record<string, unknown> | null = from?.header ?? null;
    let prev = from?.check ?? GENESIS_CHECK;
    let offset = from?.offset ?? 0;
    let missingNewline = false;
    while (offset < size) {
      const head = reader.slice(offset, headerLen);
      if (head.length < headerLen || !isFrameHeader(head, format.check)) {
        if (isTornTail(reader, offset, format.check)) break;
        throw damage(offset, 'not a bella record frame');
      }
      const length = parseInt(head.toString('latin1', 0, LEN_DIGITS), 16);
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
      // The check as written, compared to the one computed (which is then the chain's next link).
      const check = computeCheck(format, prev, payload);
      if (!checkBytesEqual(format.check, frame.subarray(LEN_DIGITS + 1, headerLen - 1), check)) {
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
      if (offset > 0) count++;
      prev = check;
      offset += frameBytes;
    }
    if (header === null) {
      return { header: {}, records: [], count: 0, lastCheck: GENESIS_CHECK, end: 0, size, missingNewline: false };
    }
    return { header, records, count, lastCheck: prev, end: offset, size, missingNewline };
  } finally {
    fs.closeSync(fd);
  }
}
