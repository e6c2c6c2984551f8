import { createHmac, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import * as z from 'zod';
import { BellaError } from '../api';
import { writeFileDurable } from '../base/node/files';
import { LeaseShardRefSchema, type LeaseShardRef } from './lease-table';
import { logDamage, scanLog } from './log-scan';
import { frame, GENESIS_CHECK, headerPayload, type LogFormat } from './record-frame';
import { snapshotMeta } from './snapshot-header';
import type { Change } from './record-validation';
import { emptyState, SCHEMA_VERSION, type State } from './schema';
import { applyChange, recordsOf } from './state-changes';

/** Where the audit trail stood when a state was committed: its last entry and that entry's check. */
export interface AuditHead {
  seq: number;
  check: string;
}

/** What a snapshot records besides the state itself. */
export interface SnapshotMeta {
  /** The last journal commit the snapshot contains; the journal's later commits are replayed over it. */
  journalSeq: number;
  /** The audit head at that commit: the trail may be longer, never shorter. */
  audit: AuditHead;
  /** The daemon's clock high-water mark at that commit (ms since the epoch). */
  clock: number;
}

const FORMAT: LogFormat = { check: 'crc32' };

const FLUSH_BYTES = 1 << 20;
/** Snapshots of these state schemas are read: 3 (every record inline) and 4 (leases may be in the lease table). */
const READABLE_SCHEMAS = [3, SCHEMA_VERSION];

/**
 * Where a snapshot's leases are: `inline` (one record per lease, as every snapshot before the lease
 * table held them; backups still do), or the files of the lease table, named in its header.
 */
export type SnapshotLeases = 'inline' | LeaseShardRef[];

/**
 * Serialises a snapshot synchronously (exactly this state, at this instant) into `sink`, in parts
 * of about 1 MiB: a record log whose header carries {@link SnapshotMeta} (and the lease table's
 * files, when the leases are there), one CRC-checked record per project, environment, secret,
 * flat record and the settings, and a last record with the keyed MAC of everything before it (so
 * the file cannot be edited without the key). Returns the bytes written.
 */
export function serialiseSnapshot(
  state: State,
  meta: SnapshotMeta,
  key: Buffer,
  leases: SnapshotLeases,
  sink: (part: Buffer) => void,
): number {
  let bytes = 0;
  const mac = createHmac('sha256', key);
  let pending: Buffer[] = [];
  let size = 0;
  const flush = () => {
    if (pending.length) sink(Buffer.concat(pending));
    pending = [];
    size = 0;
  };
  const add = (payload: string, sealed = true) => {
    const f = frame(FORMAT, GENESIS_CHECK, payload);
    if (sealed) mac.update(f.bytes);
    pending.push(f.bytes);
    size += f.bytes.length;
    bytes += f.bytes.length;
    if (size >= FLUSH_BYTES) flush();
  };
  const shards = leases === 'inline' ? {} : { leaseShards: leases };
  add(headerPayload('snapshot', { schema: SCHEMA_VERSION, ...meta, ...shards, createdAt: Date.now() }));
  let records = 0;
  for (const change of recordsOf(state, leases === 'inline')) {
    add(JSON.stringify(change));
    records++;
  }
  add(JSON.stringify({ t: 'end', records, mac: mac.digest('hex') }), false);
  flush();
  return bytes;
}

/**
 * Writes a snapshot ({@link serialiseSnapshot}) through the one atomic-write function: a crash
 * leaves the old snapshot or the new one. Serialised and written in one synchronous pass.
 */
export async function writeSnapshot(
  file: string,
  state: State,
  meta: SnapshotMeta,
  key: Buffer,
  leases: SnapshotLeases = 'inline',
): Promise<number> {
  let bytes = 0;
  await writeFileDurable(file, (fd) => {
    bytes = serialiseSnapshot(state, meta, key, leases, (part) => fs.writeSync(fd, part));
  });
  return bytes;
}

/**
 * Reads a snapshot back, validating every record against the state schema and the file against
 * its keyed MAC. Any damage refuses with the file and byte offset; nothing is changed.
 */
export function readSnapshot(
  file: string,
  key: Buffer,
  advice: string,
): { state: State; meta: SnapshotMeta; bytes: number; leaseShards: LeaseShardRef[] | null } {
  const state = emptyState();
  const mac = createHmac('sha256', key);
  let trailer: { records: number; mac: string } | null = null;
  let records = 0;
  let sealOffset = 0;
  const scan = scanLog(file, FORMAT, {
    advice,
    keep: false,
    visit: (record, raw) => {
      const damage = (why: string) => logDamage(file, record.offset, why, advice);
      if (trailer) throw damage('a record follows the end of the snapshot');
      if (record.offset === 0) {
        mac.update(raw);
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(record.payload.toString('utf8'));
      } catch {
        throw damage('a record is not valid JSON');
      }
      if ((json as { t?: unknown }).t === 'end') {
        trailer = json as { records: number; mac: string };
        sealOffset = record.offset;
        return;
      }
      mac.update(raw);
      // Not parsed by the schema: the seal, checked below before the state is used, proves that
      // bella wrote every record (from a state it had validated). A record that breaks anyway is damage.
      let refused: string | null;
      try {
        refused = applyChange(state, json as Change);
      } catch (err) {
        refused = `a record is not a valid state record (${(err as Error).message})`;
      }
      if (refused) throw damage(refused);
      records++;
    },
  });
  if (scan.end === 0) throw logDamage(file, 0, 'it is empty or has no header', advice);
  if (scan.end !== scan.size) throw logDamage(file, scan.end, 'it ends in the middle of a record', advice);
  const header = scan.header as Partial<SnapshotMeta> & { log?: string; schema?: number };
  if (header.log !== 'snapshot') throw logDamage(file, 0, 'it is not a bella snapshot', advice);
  if (typeof header.schema === 'number' && header.schema > SCHEMA_VERSION) {
    throw new BellaError(
      'unavailable',
      `${file} was written by a newer bella (state schema ${header.schema}; this one knows ${SCHEMA_VERSION}): upgrade bella; nothing was changed`,
    );
  }
  if (!READABLE_SCHEMAS.includes(header.schema as number)) {
    throw logDamage(
      file,
      0,
      `it has state schema ${String(header.schema)}, this bella knows ${SCHEMA_VERSION}`,
      advice,
    );
  }
  const end = trailer as { records: number; mac: string } | null;
  if (!end) throw logDamage(file, scan.end, 'its last record (the seal) is missing', advice);
  // The seal is the keyed MAC of every frame before it, byte for byte.
  const expected = Buffer.from(mac.digest('hex'));
  const sealed = typeof end.mac === 'string' ? Buffer.from(end.mac) : Buffer.alloc(0);
  if (end.records !== records || expected.length !== sealed.length || !timingSafeEqual(expected, sealed)) {
    throw logDamage(file, sealOffset, 'its seal does not match its records (the file was edited)', advice);
  }
  // By hand (snapshot-header.ts): no zod schema is built at a start; the lease table's refs only when named.
  const meta = snapshotMeta(header);
  if (!meta) throw logDamage(file, 0, 'its header is not a valid snapshot header', advice);
  const named = (header as { leaseShards?: unknown }).leaseShards;
  const shards = named === undefined ? undefined : z.array(LeaseShardRefSchema()).safeParse(named);
  if (shards && !shards.success) throw logDamage(file, 0, 'its header names the lease table wrongly', advice);
  if (shards && state.leases.size > 0) {
    throw logDamage(file, 0, 'it holds leases of its own besides naming the lease table', advice);
  }
  return { state, meta, bytes: scan.size, leaseShards: shards?.data ?? null };
}
