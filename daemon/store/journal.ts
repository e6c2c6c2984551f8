import fs from 'node:fs';

/** One committed batch: the full new value of every record it touched (null = deleted). */
export interface JournalEntry {
  seq: number;
  leases?: Record<string, unknown>;
  projects?: Record<string, unknown>;
  settings?: unknown;
}

/**
 * The state journal: append-only JSONL of committed batches since the last snapshot. A commit
 * appends one line and fsyncs it instead of rewriting the whole state file; the snapshot is
 * rewritten only when the journal has grown large.
 */
export class Journal {
  private size = 0;

  private constructor(
    readonly file: string,
    private readonly fd: number,
  ) {
    this.size = fs.fstatSync(fd).size;
  }

  static open(file: string): Journal {
    return new Journal(
      file,
      fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_APPEND, 0o600),
    );
  }

  /** Bytes written since the last snapshot. */
  get bytes(): number {
    return this.size;
  }

  /**
   * The entries, oldest first. A torn last line (a crash mid-append, never acknowledged) is cut
   * off; a damaged line before it is reported, because entries after it would be lost.
   */
  read(onDamage: (line: number) => never): JournalEntry[] {
    const text = fs.readFileSync(this.file, 'utf8');
    // The last piece is either empty (the file ends with a newline) or a torn line.
    const complete = text.split('\n').slice(0, -1);
    const entries: JournalEntry[] = [];
    complete.forEach((line, i) => {
      try {
        entries.push(JSON.parse(line) as JournalEntry);
      } catch {
        onDamage(i + 1);
      }
    });
    const kept = complete.reduce((n, line) => n + Buffer.byteLength(line) + 1, 0);
    if (kept !== this.size) {
      fs.ftruncateSync(this.fd, kept);
      this.size = kept;
    }
    return entries;
  }

  /** Appends one serialised entry and fsyncs it; on failure the file is cut back so it stays whole. */
  async appendLine(line: string): Promise<void> {
    const data = Buffer.from(line + '\n');
    try {
      await new Promise<void>((resolve, reject) => {
        let offset = 0;
        const step = () =>
          fs.write(this.fd, data, offset, data.length - offset, null, (err, written) => {
            if (err) return reject(err);
            offset += written;
            if (offset < data.length) step();
            else resolve();
          });
        step();
      });
      await new Promise<void>((resolve, reject) => fs.fdatasync(this.fd, (e) => (e ? reject(e) : resolve())));
      this.size += data.length;
    } catch (err) {
      try {
        fs.ftruncateSync(this.fd, this.size);
      } catch {
        /* the next append fails the same way and is refused too */
      }
      throw err;
    }
  }

  /** Empties the journal once a snapshot holds everything in it. */
  async reset(): Promise<void> {
    fs.ftruncateSync(this.fd, 0);
    await new Promise<void>((resolve, reject) => fs.fsync(this.fd, (e) => (e ? reject(e) : resolve())));
    this.size = 0;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
