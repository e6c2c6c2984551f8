import fs from 'node:fs';
import { BellaError } from '../api';
import { writeFileDurable } from '../base/node/files';
import type { ScanResult } from './log-scan';
import { frame, frameAll, GENESIS_CHECK, type FramedBatch, type LogFormat, type Payload } from './record-frame';

/**
 * An append-only log file: framed, checked records after a header record. Appends are batches
 * written with one write and one fdatasync ({@link append}), or written now and made durable
 * later ({@link write}, then {@link sync}); batches that fail are cut back off the file so it
 * stays a clean sequence of whole records. Only one batch is written at a time (the store's
 * commit pipeline is its only writer). Before and after each batch the path is checked to still
 * name the open file, with the size this log wrote ({@link problem}), so a log swapped or edited
 * under the running daemon is refused rather than appended to unseen.
 */
export class RecordLog {
  /** An fdatasync is in flight. */
  private writing = false;
  /** Where the log stood before the first batch written but not yet made durable, or null. */
  private unsynced: { size: number; lastCheck: string; records: number } | null = null;
  /** Once closed, its descriptor number may name another file: nothing is done through it. */
  private closed = false;

  /** The open file's device and inode, which never change while it is open: the path must name them. */
  private readonly identity: { dev: bigint; ino: bigint };

  private constructor(
    readonly file: string,
    private readonly format: LogFormat,
    private fd: number,
    private _size: number,
    private _lastCheck: string,
    private _records: number,
  ) {
    const open = fs.fstatSync(fd, { bigint: true });
    this.identity = { dev: open.dev, ino: open.ino };
  }

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
      return new RecordLog(file, format, fd, size, scan.lastCheck, scan.count);
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
  prepare(payloads: readonly Payload[]): FramedBatch {
    return frameAll(this.format, this._lastCheck, payloads);
  }

  /**
   * Appends a batch framed by {@link prepare} from the current tail and makes it durable. A failed
   * write is cut back off the file and rethrown; a file swapped or edited meanwhile is refused.
   */
  async append(batch: FramedBatch): Promise<void> {
    this.write(batch);
    await this.sync();
  }

  /**
   * Writes a batch framed by {@link prepare} from the current tail into the page cache, where
   * readers see it and the next batch chains from it; {@link sync} makes it durable. A failed
   * write is cut back off the file and rethrown; a file swapped or edited meanwhile is refused.
   */
  write(batch: FramedBatch): void {
    if (batch.checks.length === 0) return;
    if (this.writing) throw new Error(`${this.file}: only one batch may be written at a time`);
    this.assertSameFile();
    try {
      writeAll(this.fd, batch.bytes);
    } catch (err) {
      this.truncate(this._size);
      throw err;
    }
    this.unsynced ??= { size: this._size, lastCheck: this._lastCheck, records: this._records };
    this._size += batch.bytes.length;
    this._lastCheck = batch.checks.at(-1)!;
    this._records += batch.checks.length;
  }

  /** Whether batches were written that are not durable yet. */
  get pending(): boolean {
    return this.unsynced !== null;
  }

  /**
   * Makes every batch written so far durable (one fdatasync). If that fails, or the file was
   * swapped meanwhile, the log's tail goes back to where it was before them (they were never
   * durable, so never acknowledged): cut back off the file after a failed fdatasync, left in a
   * swapped file (the bytes after ours, if any, are not ours to cut); the error is rethrown.
   */
  async sync(): Promise<void> {
    const mark = this.unsynced;
    if (!mark) return;
    if (this.writing) throw new Error(`${this.file}: only one batch may be written at a time`);
    this.writing = true;
    try {
      try {
        await new Promise<void>((resolve, reject) => fs.fdatasync(this.fd, (e) => (e ? reject(e) : resolve())));
        if (this.closed) throw new Error(`${this.file} was closed before its last batches were durable`);
      } catch (err) {
        if (!this.closed) this.truncate(mark.size);
        this.restore(mark);
        throw err;
      }
      // Swapped while the batch was written: it went to a file no reader sees, so it is refused.
      const swapped = this.problem(this._size);
      if (swapped) {
        this.restore(mark);
        throw swapped;
      }
      this.unsynced = null;
    } finally {
      this.writing = false;
    }
  }

  private restore(mark: { size: number; lastCheck: string; records: number }): void {
    this._size = mark.size;
    this._lastCheck = mark.lastCheck;
    this._records = mark.records;
    this.unsynced = null;
  }

  private truncate(size: number): void {
    try {
      fs.ftruncateSync(this.fd, size);
    } catch {
      /* the next batch fails the same way and is refused too */
    }
  }

  /**
   * Why the path no longer names what this log wrote, or null: the file was removed, replaced by
   * another (copied and renamed over it, as logrotate and `sed -i` do: another device or inode
   * than the open one), or written by someone else (its size is not the `size` this log wrote).
   * Appending then would hide entries from every reader, or chain them to bytes bella never wrote.
   * While a batch is being written its size is not known from outside, so only the file is compared.
   * One `stat` of the path: when it names the open file (same device and inode), its size is the
   * open file's.
   */
  problem(size: number | null = this.writing ? null : this._size): BellaError | null {
    let named: fs.BigIntStats | undefined;
    try {
      named = fs.statSync(this.file, { bigint: true, throwIfNoEntry: false });
    } catch {
      named = undefined;
    }
    const what =
      named === undefined
        ? 'removed'
        : named.dev !== this.identity.dev || named.ino !== this.identity.ino
          ? 'replaced by another file (copied and renamed over it, as logrotate or sed -i do)'
          : size !== null && named.size !== BigInt(size)
            ? `changed by another program (${named.size} bytes where bella wrote ${size})`
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

  /** Closes the file. An fdatasync still in flight then fails without touching the descriptor. */
  close(): void {
    this.closed = true;
    fs.closeSync(this.fd);
  }
}

/**
 * Writes the whole batch into the page cache, on the event loop: a few KiB copied, cheaper than a
 * round trip through the thread pool; the fdatasync that follows (which waits for the disk) stays off it.
 */
function writeAll(fd: number, data: Buffer): void {
  let offset = 0;
  while (offset < data.length) offset += fs.writeSync(fd, data, offset, data.length - offset);
}
