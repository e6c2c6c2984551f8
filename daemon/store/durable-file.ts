import fs from 'node:fs';
import type { Adapter } from 'lowdb';
import { writeFileDurable } from '../base/node/files';
import type { LeaseShardRef } from './lease-table';
import type { State } from './schema';
import { readSnapshot, serialiseSnapshot, type SnapshotLeases, type SnapshotMeta } from './snapshot';

/** The control document lowdb holds: the state (its leases aside when the lease table holds them) and where it stands. */
export interface ControlDocument {
  /** The state services read and change: lowdb's data IS the store's state object. */
  state: State;
  meta: SnapshotMeta;
  /** Where the leases are: inline, or the lease table's files. */
  leases: SnapshotLeases;
  /** Bytes of state.snapshot as last read or written. */
  bytes: number;
  /** Files the snapshot names that are being written: it is renamed into place only once they are durable. */
  namedFilesDurable?: Promise<unknown>;
}

/**
 * The lowdb adapter of state.snapshot: the control document in bella's snapshot format (framed,
 * CRC-checked records sealed by a keyed MAC, see snapshot.ts), written durably (unique temp file,
 * fsync, rename, fsync the directory: lowdb's stock writer renames but never fsyncs). A damaged
 * file refuses with the file and byte offset. Group commit and the journal are the Store's.
 */
export class SnapshotFile implements Adapter<ControlDocument> {
  constructor(
    readonly file: string,
    private readonly key: Buffer,
    private readonly advice: string,
  ) {}

  read(): Promise<ControlDocument | null> {
    return Promise.resolve(this.readSync());
  }

  /** Reads the file now (after a failed commit, memory is put back synchronously). */
  readSync(): ControlDocument | null {
    if (!fs.existsSync(this.file)) return null;
    const read = readSnapshot(this.file, this.key, this.advice);
    const leases: SnapshotLeases = read.leaseShards ?? 'inline';
    return { state: read.state, meta: read.meta, leases, bytes: read.bytes };
  }

  /**
   * Serialises `doc` synchronously (the state of this instant), then waits for the files it names
   * to be durable before writing it: the snapshot is the commit point of a compaction.
   */
  async write(doc: ControlDocument): Promise<void> {
    const parts: Buffer[] = [];
    doc.bytes = serialiseSnapshot(doc.state, doc.meta, this.key, doc.leases, (part) => parts.push(part));
    const named = doc.namedFilesDurable;
    delete doc.namedFilesDurable;
    await named;
    await writeFileDurable(this.file, (fd) => {
      for (const part of parts) fs.writeSync(fd, part);
    });
  }
}

/** The lease table files a control document names (none when its leases are inline). */
export function namedShards(doc: ControlDocument): LeaseShardRef[] {
  return doc.leases === 'inline' ? [] : doc.leases;
}
