import fs from 'node:fs';
import * as z from 'zod';
import { BellaError } from '../api';
import { logDamage, scanLog, type ScanResult } from './log-scan';
import { headerPayload, PayloadChunks, type LogFormat } from './record-frame';
import { RecordLog } from './record-log';
import { parseChange, type Change } from './record-validation';
import type { AuditHead } from './snapshot';

/**
 * One commit of the state: the new value of every record it touched, the audit entries written
 * with it and the audit head after them, and the clock's high-water mark. The commit and its
 * audit entries are one atomic unit: the audit trail is written after the journal, and the
 * entries of a commit that reached the journal but not the trail are completed at start-up.
 */
export interface JournalRecord {
  seq: number;
  clock: number;
  audit: { head: AuditHead; entries: Array<Record<string, unknown>> };
  changes: Change[];
}

/**
 * A commit as {@link Journal.append} takes it: its changes produced as they are written, its audit
 * entries' JSON given as the bytes framed for the trail when there are any (`encoded`).
 */
export type AppendedRecord = Omit<JournalRecord, 'changes' | 'audit'> & {
  audit: JournalRecord['audit'] & { encoded?: Iterable<Buffer> };
  changes: Iterable<Change>;
};

/** A commit's JSON text, as `JSON.stringify(record)` gives it, built piece by piece outside the JS heap. */
function recordPayload({ seq, clock, audit, changes }: AppendedRecord): Buffer[] {
  const out = new PayloadChunks();
  out.add(
    `{"seq":${JSON.stringify(seq)},"clock":${JSON.stringify(clock)},"audit":{"head":${JSON.stringify(audit.head)},"entries":[`,
  );
  let first = true;
  for (const entry of audit.encoded ?? audit.entries.map((e) => JSON.stringify(e))) {
    if (!first) out.add(',');
    out.add(entry);
    first = false;
  }
  out.add(']},"changes":[');
  first = true;
  for (const change of changes) {
    if (!first) out.add(',');
    out.add(JSON.stringify(change));
    first = false;
  }
  out.add(']}');
  return out.payload();
}

/** What {@link Journal.read} found. */
export interface JournalScan {
  file: string;
  /** null when there is no journal file. */
  scan: ScanResult | null;
  after: number;
  commits: JournalRecord[];
}

/** A commit's shape, built at the first commit read back (a new data dir reads none). */
const recordShape = () =>
  z.strictObject({
    seq: z.number().int().positive(),
    clock: z.number().nonnegative(),
    audit: z.strictObject({
      head: z.strictObject({ seq: z.number().int().nonnegative(), check: z.string().regex(/^[0-9a-f]{64}$/) }),
      entries: z.array(z.record(z.string(), z.unknown())),
    }),
    changes: z.array(z.unknown()),
  });
let RecordShape: ReturnType<typeof recordShape> | undefined;

/**
 * The state journal: the commits since the last snapshot, as HMAC-chained records after a header
 * naming the snapshot commit they follow. Each commit is one record appended and fdatasynced;
 * the snapshot is rewritten (and the journal replaced by an empty one) when it grows large.
 */
export class Journal {
  private constructor(
    private readonly log: RecordLog,
    /** The snapshot commit this journal follows. */
    readonly after: number,
  ) {}

  get file(): string {
    return this.log.file;
  }

  /** Bytes on disk. */
  get bytes(): number {
    return this.log.size;
  }

  /** Commits it holds. */
  get commits(): number {
    return this.log.records;
  }

  /** Creates an empty journal following snapshot commit `after`, atomically replacing any file. */
  static async create(file: string, format: LogFormat, after: number): Promise<Journal> {
    return new Journal(await RecordLog.create(file, format, headerPayload('journal', { after })), after);
  }

  /**
   * Reads the journal without changing it and returns its commits after `snapshotSeq`, each
   * validated. A torn last commit (never acknowledged) is left for {@link open} to cut off; any
   * other damage throws, naming the file and offset. The journal is only ever replaced whole
   * (atomically), so a file without a whole header is damage, never a crash.
   */
  static read(file: string, format: LogFormat, snapshotSeq: number, advice: string): JournalScan {
    if (!fs.existsSync(file)) return { file, scan: null, after: snapshotSeq, commits: [] };
    const scan = scanLog(file, format, { advice });
    const header = scan.header as { log?: unknown; after?: unknown };
    if (scan.end === 0) throw logDamage(file, 0, 'it has no header (the file was cut)', advice);
    if (header.log !== 'journal' || typeof header.after !== 'number') {
      throw logDamage(file, 0, 'it is not a bella journal', advice);
    }
    if (header.after > snapshotSeq) {
      const err = logDamage(
        file,
        0,
        `it follows commit ${header.after} but the snapshot holds only commits up to ${snapshotSeq} (the snapshot is older than its journal)`,
        advice,
      );
      throw new BellaError(err.code, err.message, { file, offset: 0, reason: 'older-snapshot' });
    }
    const commits: JournalRecord[] = [];
    let expected = header.after + 1;
    for (const record of scan.records) {
      const damage = (why: string) => logDamage(file, record.offset, why, advice);
      let json: unknown;
      try {
        json = JSON.parse(record.payload.toString('utf8'));
      } catch {
        throw damage('a commit is not valid JSON');
      }
      const shape = (RecordShape ??= recordShape()).safeParse(json);
      if (!shape.success) throw damage(`a commit is malformed (${shape.error.issues[0]?.message ?? 'invalid'})`);
      if (shape.data.seq !== expected) throw damage(`commit ${shape.data.seq} where ${expected} was expected`);
      expected++;
      const changes: Change[] = [];
      for (const raw of shape.data.changes) {
        const parsed = parseChange(raw);
        if ('error' in parsed) throw damage(`commit ${shape.data.seq} holds an invalid record (${parsed.error})`);
        changes.push(parsed.change);
      }
      // Commits the snapshot already holds (a crash after it was written, before this was emptied).
      if (shape.data.seq > snapshotSeq) commits.push({ ...shape.data, changes });
    }
    return { file, scan, after: header.after, commits };
  }

  /** Opens a journal that {@link read} accepted, cutting off its torn tail; creates a missing one. */
  static async open(format: LogFormat, read: JournalScan): Promise<Journal> {
    if (!read.scan) return Journal.create(read.file, format, read.after);
    return new Journal(RecordLog.open(read.file, format, read.scan), read.after);
  }

  /**
   * Appends one commit and makes it durable; returns the bytes written. The record is written as
   * the same JSON as `JSON.stringify(record)`, piece by piece (its changes read once, now: see
   * `changesOf`): no string of the whole record, no object of each change kept.
   */
  async append(record: AppendedRecord): Promise<number> {
    const batch = this.log.prepare([recordPayload(record)]);
    const bytes = batch.bytes.length;
    await this.log.append(batch);
    return bytes;
  }

  /** Throws when the journal file was replaced, edited or removed under the running daemon. */
  assertSameFile(): void {
    this.log.assertSameFile();
  }

  /** Why the journal cannot be written (see {@link RecordLog.problem}), or null. */
  problem(): BellaError | null {
    return this.log.problem();
  }

  close(): void {
    this.log.close();
  }
}
