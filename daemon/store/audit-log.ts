import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import { BellaError, type AuditEntry } from '../api';

/** What a service hands to the audit log; sequence, time and chain are added on write. */
export type AuditInput = Omit<AuditEntry, 'seq' | 'ts' | 'prev' | 'hash'> & {
  /** When it happened, if not now (e.g. an expiry applied after a restart). */
  at?: number;
};

const GENESIS = 'genesis';
const TAIL_BYTES = 256 * 1024;

interface Pending {
  inputs: AuditInput[];
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * The append-only audit trail: JSONL, each entry carrying the keyed hash of the previous one.
 * Appends are group-committed and fsynced; an append that cannot be written rejects, so the
 * caller fails closed.
 */
export class AuditLog {
  private seq = 0;
  private head = GENESIS;
  private size = 0;
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;

  private constructor(
    readonly file: string,
    private readonly key: Buffer,
    private readonly now: () => number,
    private fd: number,
  ) {}

  /** Opens (or creates, 0600) the log, finds the chain head and drops a torn last line. */
  static open(file: string, key: Buffer, now: () => number = Date.now): AuditLog {
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_APPEND, 0o600);
    const log = new AuditLog(file, key, now, fd);
    log.recover();
    return log;
  }

  private recover(): void {
    const size = fs.fstatSync(this.fd).size;
    const start = Math.max(0, size - TAIL_BYTES);
    const buf = Buffer.alloc(size - start);
    fs.readSync(this.fd, buf, 0, buf.length, start);
    const text = buf.toString('utf8');
    const end = text.lastIndexOf('\n') + 1;
    if (end !== text.length) {
      // A crash mid-append left a torn line that was never acknowledged: drop it.
      fs.ftruncateSync(this.fd, start + end);
    }
    this.size = start + end;
    const lines = text.slice(0, end).split('\n').filter(Boolean);
    const last = lines.at(-1);
    if (last) {
      const entry = JSON.parse(last) as AuditEntry;
      this.seq = entry.seq;
      this.head = entry.hash;
    }
  }

  /** Appends entries; resolves once they are on disk, rejects (fail closed) if they cannot be written. */
  append(inputs: AuditInput[]): Promise<void> {
    if (inputs.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.queue.push({ inputs, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue;
      this.queue = [];
      let seq = this.seq;
      let head = this.head;
      const lines: string[] = [];
      for (const p of batch) {
        for (const input of p.inputs) {
          const { at, ...fields } = input;
          const body = { seq: ++seq, ts: new Date(at ?? this.now()).toISOString(), ...fields, prev: head };
          const json = JSON.stringify(body);
          head = this.mac(json);
          lines.push(`${json.slice(0, -1)},"hash":"${head}"}`);
        }
      }
      const data = Buffer.from(lines.join('\n') + '\n');
      try {
        await writeAll(this.fd, data);
        await new Promise<void>((res, rej) => fs.fdatasync(this.fd, (e) => (e ? rej(e) : res())));
        this.seq = seq;
        this.head = head;
        this.size += data.length;
        for (const p of batch) p.resolve();
      } catch (err) {
        // Keep the file a clean prefix of the chain: cut whatever part of the batch landed.
        try {
          fs.ftruncateSync(this.fd, this.size);
        } catch {
          /* the next append will fail the same way and be refused too */
        }
        const failure = new BellaError(
          'unavailable',
          `cannot write the audit log ${this.file} (${(err as NodeJS.ErrnoException).code ?? String(err)}): the request was refused because it could not be audited`,
        );
        for (const p of batch) p.reject(failure);
      }
    }
    this.flushing = null;
  }

  private mac(json: string): string {
    return createHmac('sha256', this.key).update(json).digest('hex');
  }

  /** Every entry, oldest first. */
  async readAll(): Promise<AuditEntry[]> {
    const text = await fs.promises.readFile(this.file, 'utf8');
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AuditEntry);
  }

  /** Checks every line's chain link and keyed hash; names the first broken line. */
  async verify(): Promise<{ ok: boolean; entries: number; firstBroken: { line: number; reason: string } | null }> {
    const text = await fs.promises.readFile(this.file, 'utf8');
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    let prev = GENESIS;
    for (let i = 0; i < lines.length; i++) {
      const broken = (reason: string) => ({ ok: false, entries: lines.length, firstBroken: { line: i + 1, reason } });
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(lines[i] as string) as Record<string, unknown>;
      } catch {
        return broken('not valid JSON');
      }
      const { hash, ...body } = entry;
      if (body.seq !== i + 1) return broken(`sequence number ${String(body.seq)} where ${i + 1} was expected`);
      if (body.prev !== prev) return broken('does not link to the previous entry (an entry was removed or reordered)');
      if (hash !== this.mac(JSON.stringify(body)))
        return broken('hash does not match its content (the entry was edited)');
      prev = hash as string;
    }
    return { ok: true, entries: lines.length, firstBroken: null };
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
