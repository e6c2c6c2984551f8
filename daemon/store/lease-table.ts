import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileDurable } from '../base/node/files';
import { COLUMN_NAMES, columnsProblem, fromColumns, toColumns, type LeaseColumns } from './lease-columns';
import { logDamage, scanLog } from './log-scan';
import { frame, GENESIS_CHECK, headerPayload, type LogFormat } from './record-frame';
import type { StoredLease } from './schema';

// The lease table's snapshot: the active (and recently ended) leases of a compaction, in files of
// their own beside the control snapshot (state.snapshot), each a CRC-framed file of columns sealed
// by a keyed MAC. state.snapshot names each file with its MAC, so it is the one commit point:
// files it does not name are leftovers of an earlier compaction or of a crash, removed after the
// next one.

/** One file of the lease table, as state.snapshot names it. */
export interface LeaseShardRef {
  /** Its name inside the lease table directory. */
  file: string;
  leases: number;
  /** The keyed MAC its last record holds. */
  mac: string;
}

export const LeaseShardRefSchema = z.strictObject({
  file: z.string().regex(/^[0-9]+-[0-9a-f]{12}-[0-9]+\.leases$/),
  leases: z.number().int().nonnegative(),
  mac: z.string().regex(/^[0-9a-f]{64}$/),
});

/** Leases per file: a file is a contiguous run of the table, so the table's order is the files' order. */
export const LEASES_PER_SHARD = 16_384;
const FORMAT: LogFormat = { check: 'crc32' };

/** The directory of the lease table in a data directory. */
export function leaseTableDir(home: string): string {
  return path.join(home, 'lease-table');
}

/**
 * Writes `leases` (in order) as new files of the lease table and returns what state.snapshot must
 * name. Each file's bytes are serialised and written to its temp file synchronously (the table of
 * this instant, one file's bytes in memory at a time); `durable` resolves once every file is
 * fsynced and renamed into place. The files state.snapshot names now are left alone:
 * {@link removeUnnamedShards} removes them once the new state.snapshot is written.
 */
export function writeLeaseShards(
  dir: string,
  leases: Iterable<StoredLease>,
  journalSeq: number,
  key: Buffer,
): { refs: LeaseShardRef[]; bytes: number; durable: Promise<unknown> } {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const generation = `${journalSeq}-${randomBytes(6).toString('hex')}`;
  const refs: LeaseShardRef[] = [];
  const writes: Array<Promise<void>> = [];
  let bytes = 0;
  let run: StoredLease[] = [];
  const flush = () => {
    const file = `${generation}-${refs.length}.leases`;
    const shard = shardBytes(run, key);
    writes.push(writeFileDurable(path.join(dir, file), shard.bytes));
    refs.push({ file, leases: run.length, mac: shard.mac });
    bytes += shard.bytes.length;
    run = [];
  };
  for (const lease of leases) {
    run.push(lease);
    if (run.length === LEASES_PER_SHARD) flush();
  }
  if (run.length) flush();
  const durable = Promise.all(writes);
  durable.catch(() => undefined);
  return { refs, bytes, durable };
}

/** The bytes of one file: a header, one record per column, and the keyed MAC of all before it. */
export function shardBytes(leases: StoredLease[], key: Buffer): { bytes: Buffer; mac: string } {
  const mac = createHmac('sha256', key);
  const parts: Buffer[] = [];
  const add = (payload: string) => {
    const f = frame(FORMAT, GENESIS_CHECK, payload).bytes;
    mac.update(f);
    parts.push(f);
  };
  add(headerPayload('lease-table', { leases: leases.length }));
  const columns = toColumns(leases);
  for (const name of COLUMN_NAMES) add(JSON.stringify({ c: name, v: columns[name] }));
  const seal = mac.digest('hex');
  parts.push(frame(FORMAT, GENESIS_CHECK, JSON.stringify({ t: 'end', mac: seal })).bytes);
  return { bytes: Buffer.concat(parts), mac: seal };
}

/**
 * Reads the files `refs` names into `into`, in order. Every file must be whole, hold the MAC
 * state.snapshot names for it and the number of leases it names; any damage refuses with the file
 * and byte offset.
 */
export function readLeaseShards(
  dir: string,
  refs: LeaseShardRef[],
  key: Buffer,
  advice: string,
  into: Map<string, StoredLease>,
): number {
  let bytes = 0;
  for (const ref of refs) bytes += readShard(path.join(dir, ref.file), ref, key, advice, into);
  return bytes;
}

function readShard(file: string, ref: LeaseShardRef, key: Buffer, advice: string, into: Map<string, StoredLease>) {
  if (!fs.existsSync(file)) {
    throw logDamage(file, 0, 'it is missing, but state.snapshot names it as part of the lease table', advice);
  }
  const mac = createHmac('sha256', key);
  const columns: Partial<Record<keyof LeaseColumns, unknown>> = {};
  const offsets = new Map<string, number>();
  let seal: { offset: number; mac: unknown } | null = null;
  const scan = scanLog(file, FORMAT, {
    advice,
    keep: false,
    visit: (record, raw) => {
      if (seal) throw logDamage(file, record.offset, 'a record follows the end of the lease file', advice);
      let json: { c?: unknown; v?: unknown; t?: unknown; mac?: unknown };
      try {
        json = JSON.parse(record.payload.toString('utf8')) as typeof json;
      } catch {
        throw logDamage(file, record.offset, 'a record is not valid JSON', advice);
      }
      if (record.offset > 0 && json.t === 'end') {
        seal = { offset: record.offset, mac: json.mac };
        return;
      }
      mac.update(raw);
      if (record.offset === 0) return;
      const name = json.c as keyof LeaseColumns;
      if (!COLUMN_NAMES.includes(name) || name in columns) {
        throw logDamage(file, record.offset, 'a record is not a lease table column', advice);
      }
      columns[name] = json.v;
      offsets.set(name, record.offset);
    },
  });
  if (scan.end === 0) throw logDamage(file, 0, 'it is empty or has no header', advice);
  if (scan.end !== scan.size) throw logDamage(file, scan.end, 'it ends in the middle of a record', advice);
  const header = scan.header as { log?: unknown; leases?: unknown };
  if (header.log !== 'lease-table') throw logDamage(file, 0, 'it is not a bella lease table file', advice);
  const end = seal as { offset: number; mac: unknown } | null;
  if (!end) throw logDamage(file, scan.end, 'its last record (the seal) is missing', advice);
  const expected = Buffer.from(mac.digest('hex'));
  const sealed = typeof end.mac === 'string' ? Buffer.from(end.mac) : Buffer.alloc(0);
  if (expected.length !== sealed.length || !timingSafeEqual(expected, sealed)) {
    throw logDamage(file, end.offset, 'its seal does not match its records (the file was edited)', advice);
  }
  // A whole, sealed file of another compaction (copied over this one) is refused too.
  if (end.mac !== ref.mac || header.leases !== ref.leases) {
    throw logDamage(file, 0, 'it is not the lease table file state.snapshot names (it was replaced)', advice);
  }
  const problem = columnsProblem(columns, ref.leases);
  if (problem) {
    const column = COLUMN_NAMES.find((n) => problem.includes(` ${n} `)) ?? 'id';
    throw logDamage(file, offsets.get(column) ?? 0, problem, advice);
  }
  fromColumns(columns as LeaseColumns, ref.leases, (lease) => {
    if (into.has(lease.id)) throw logDamage(file, 0, `lease ${lease.id} is held twice in the lease table`, advice);
    into.set(lease.id, lease);
  });
  return scan.size;
}

/** Removes the files of the lease table that `refs` does not name (earlier compactions, crashes). */
export function removeUnnamedShards(dir: string, refs: LeaseShardRef[]): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  const keep = new Set(refs.map((r) => r.file));
  for (const name of names) if (!keep.has(name)) fs.rmSync(path.join(dir, name), { force: true });
}
