import path from 'node:path';
import { Low } from 'lowdb';
import { backupTableDir } from './backups';
import { SnapshotFile, namedShards, type ControlDocument } from './durable-file';
import { leaseTableDir, readLeaseShards, removeUnnamedShards, writeLeaseShards } from './lease-table';
import { emptyState, type State } from './schema';
import type { SnapshotMeta } from './snapshot';

/** Up to this many leases stay in state.snapshot itself (one file, one fsync); more go to the lease table. */
export const INLINE_LEASES_MAX = 1000;
/** Deleted rows are dropped from memory once they are this share of the lease table's rows. */
const PACK_DEAD_SHARE = 0.25;

/** The state as read back from its files. */
export interface StateRead {
  state: State;
  meta: SnapshotMeta;
  /** Bytes of state.snapshot and the lease table files. */
  bytes: number;
  /** Whether the leases were in the lease table (false: inline, as every snapshot before it held them). */
  leaseTable: boolean;
  /** Whether some of its files were read from backups/lease-table/ (a backup was copied back). */
  tableFromBackup: boolean;
}

/**
 * The snapshot of the state: the control document (projects, environments, sealed secrets,
 * settings, channels and every other record but leases) held by a lowdb `Low` over state.snapshot,
 * and the active leases in the lease table's files, which state.snapshot names. The journal logs
 * each change; this is what compaction writes and start-up reads.
 */
export class StateFiles {
  private readonly adapter: SnapshotFile;
  readonly db: Low<ControlDocument>;
  readonly tableDir: string;

  constructor(
    readonly home: string,
    private readonly key: Buffer,
    private readonly advice: string,
    readonly inlineLeasesMax = INLINE_LEASES_MAX,
  ) {
    this.adapter = new SnapshotFile(path.join(home, 'state.snapshot'), key, advice);
    this.tableDir = leaseTableDir(home);
    this.db = new Low<ControlDocument>(this.adapter, {
      state: emptyState(),
      meta: { journalSeq: 0, audit: { seq: 0, check: '0'.repeat(64) }, clock: 0 },
      leases: 'inline',
      bytes: 0,
    });
  }

  /** Reads state.snapshot through lowdb, then the lease table files it names. */
  async read(): Promise<StateRead> {
    await this.db.read();
    return this.withLeases(this.db.data);
  }

  /** The same, synchronously, without touching lowdb's data (memory is refilled by the caller). */
  readSync(): StateRead {
    const doc = this.adapter.readSync();
    if (!doc) throw new Error(`${this.adapter.file} is missing`);
    return this.withLeases(doc);
  }

  private withLeases(doc: ControlDocument): StateRead {
    const dirs: [string, string] = [this.tableDir, backupTableDir(path.join(this.home, 'backups'))];
    const table = readLeaseShards(dirs, namedShards(doc), this.key, this.advice, doc.state.leases);
    return {
      state: doc.state,
      meta: doc.meta,
      bytes: doc.bytes + table.bytes,
      leaseTable: doc.leases !== 'inline',
      tableFromBackup: table.fromBackup,
    };
  }

  /** The lease table files the snapshot last read or written names. */
  namedFiles(): string[] {
    return namedShards(this.db.data).map((r) => r.file);
  }

  /**
   * Writes `state` as of `meta`: the lease table's files first (when it holds more than a few
   * leases), then state.snapshot through lowdb, which names them; then removes the files it no
   * longer names. Everything is serialised synchronously, so it is the state of this instant; a
   * crash at any point leaves the old snapshot (whose files are still there) or the new one.
   */
  write(state: State, meta: SnapshotMeta): Promise<StateRead> {
    // Rows of leases gone since the last compaction leave memory here (between transactions), once
    // they are a good share of the rows: packing renumbers the rows, so every table file is written again.
    state.leases.pack(PACK_DEAD_SHARE);
    const table = state.leases.size > this.inlineLeasesMax;
    const shards = table ? writeLeaseShards(this.tableDir, state.leases, meta.journalSeq, this.key) : null;
    if (!shards) state.leases.persisted = [];
    const previous = this.db.data;
    this.db.data = {
      state,
      meta,
      leases: shards ? shards.refs : 'inline',
      bytes: 0,
      ...(shards ? { namedFilesDurable: shards.durable } : {}),
    };
    const written = this.db.write().catch((err: unknown) => {
      // Not written: the document on disk (and the files it names) is still the previous one, so
      // which rows the table's files hold is not known: the next compaction writes them all.
      this.db.data = previous;
      state.leases.persisted = [];
      throw err;
    });
    return written.then(() => {
      removeUnnamedShards(this.tableDir, shards?.refs ?? []);
      const bytes = this.db.data.bytes + (shards?.bytes ?? 0);
      return { state, meta, bytes, leaseTable: table, tableFromBackup: false };
    });
  }
}
