import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { once } from '../api/schemas';
import { readFully, writeFileDurable } from '../base/node/files';
import { crc32 } from 'node:zlib';
import {
  COLUMN_NAMES,
  columnsProblem,
  decodeColumn,
  fromColumns,
  type ColumnKind,
  type EncodedColumn,
} from './lease-columns';
import type { LeaseTable, LoadProblem } from './lease-memory';
import { logDamage } from './log-scan';

// The lease table's snapshot: the active (and recently ended) leases of a compaction, in files of
// their own beside the control snapshot (state.snapshot), each a file of typed columns (see
// lease-columns.ts), every column CRC-checked and the file sealed by a keyed MAC. state.snapshot names each file with its MAC, so it is the one commit point:
// files it does not name are leftovers of an earlier compaction or of a crash, removed after the
// next one. Each file holds a run of the table's rows; a compaction writes again only the files of
// runs whose rows changed (and the last one, which new leases join), and names the others as they are.

/** One file of the lease table, as state.snapshot names it. */
export interface LeaseShardRef {
  /** Its name inside the lease table directory. */
  file: string;
  leases: number;
  /** The keyed MAC its last record holds. */
  mac: string;
}

/** A lease table file as the snapshot header names it (built at first use, as the contract's schemas are). */
export const LeaseShardRefSchema = once(() =>
  z.strictObject({
    file: z.string().regex(/^[0-9]+-[0-9a-f]{12}-[0-9]+\.leases$/),
    leases: z.number().int().nonnegative(),
    mac: z.string().regex(/^[0-9a-f]{64}$/),
  }),
);

/** Leases per file: a file is a contiguous run of the table, so the table's order is the files' order. */
export const LEASES_PER_SHARD = 16_384;

/** A run of the lease table's rows (up to row `end`, from where the one before ends) and the file holding it. */
export interface ShardRun {
  end: number;
  /** null: no live lease in the run, so no file. */
  ref: LeaseShardRef | null;
  bytes: number;
}

/** The directory of the lease table in a data directory. */
export function leaseTableDir(home: string): string {
  return path.join(home, 'lease-table');
}

/**
 * Writes the lease table's files for `table` as it is now and returns what state.snapshot must
 * name. A run of rows unchanged since its file was written or read keeps that file; the others
 * (the last run, grown by new leases up to {@link LEASES_PER_SHARD} rows, and runs of new rows
 * after it) are serialised and written to temp files synchronously (the table of this instant,
 * one file's bytes in memory at a time), and `table.persisted` names the new runs. `durable`
 * resolves once every new file is fsynced and renamed into place. The files state.snapshot names
 * now are left alone: {@link removeUnnamedShards} removes those no longer named once the new
 * state.snapshot is written (if it is not, the caller forgets `table.persisted`).
 */
export function writeLeaseShards(
  dir: string,
  table: LeaseTable,
  journalSeq: number,
  key: Buffer,
): { refs: LeaseShardRef[]; bytes: number; written: number; durable: Promise<unknown> } {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const generation = `${journalSeq}-${randomBytes(6).toString('hex')}`;
  const rows = table.rowCount;
  // The runs as they stand, then the rows after them: the last run takes new rows up to a full file.
  const plan: Array<{ start: number; end: number; kept: ShardRun | null }> = [];
  let start = 0;
  for (const run of table.persisted) {
    if (run.end > rows || run.end < start) break; // not this table's runs: every row is written
    plan.push({ start, end: run.end, kept: run });
    start = run.end;
  }
  const last = plan.at(-1);
  if (last && start < rows && last.end - last.start < LEASES_PER_SHARD) {
    last.end = Math.min(last.start + LEASES_PER_SHARD, rows);
    last.kept = null;
    start = last.end;
  }
  for (; start < rows; start += LEASES_PER_SHARD) {
    plan.push({ start, end: Math.min(start + LEASES_PER_SHARD, rows), kept: null });
  }
  const runs: ShardRun[] = [];
  const writes: Array<Promise<void>> = [];
  for (const { start, end, kept } of plan) {
    if (kept && !table.changedIn(start, end)) {
      runs.push(kept);
      continue;
    }
    const { count, columns } = table.takeColumns(start, end);
    if (count === 0) {
      runs.push({ end, ref: null, bytes: 0 });
      continue;
    }
    const file = `${generation}-${writes.length}.leases`;
    const shard = shardBytes(columns, count, key);
    writes.push(writeFileDurable(path.join(dir, file), shard.bytes));
    runs.push({ end, ref: { file, leases: count, mac: shard.mac }, bytes: shard.bytes.length });
  }
  table.persisted = runs;
  const durable = Promise.all(writes);
  durable.catch(() => undefined);
  const refs = runs.flatMap((r) => (r.ref ? [r.ref] : []));
  return { refs, bytes: runs.reduce((sum, r) => sum + r.bytes, 0), written: writes.length, durable };
}

/**
 * The bytes of one file of `count` leases: a header line (its CRC-32, then JSON naming each
 * column's encoding, length and CRC-32), the columns back to back, and a last line with the keyed
 * MAC of every byte before it.
 */
export function shardBytes(columns: EncodedColumn[], count: number, key: Buffer): { bytes: Buffer; mac: string } {
  const header = JSON.stringify({
    log: 'lease-table',
    v: 1,
    leases: count,
    columns: columns.map((c) => [c.name, c.kind, c.bytes.length, crcHex(c.bytes)]),
  });
  const head = Buffer.from(`${crcHex(Buffer.from(header, 'utf8'))} ${header}\n`, 'utf8');
  const body = Buffer.concat([head, ...columns.map((c) => c.bytes)]);
  const mac = createHmac('sha256', key).update(body).digest('hex');
  return { bytes: Buffer.concat([body, Buffer.from(`${mac}\n`, 'latin1')]), mac };
}

function crcHex(bytes: Buffer): string {
  return crc32(bytes).toString(16).padStart(8, '0');
}

/**
 * Reads the files `refs` names into `into`, in order, each from the first of `dirs` that holds it
 * (the lease table, then the backups' copies). Every file must be whole, hold the MAC state.snapshot
 * names for it and the number of leases it names; any damage refuses with the file and byte offset.
 */
export function readLeaseShards(
  dirs: [string, ...string[]],
  refs: LeaseShardRef[],
  key: Buffer,
  advice: string,
  into: LeaseTable,
): { bytes: number; fromBackup: boolean } {
  let bytes = 0;
  let fromBackup = false;
  const fresh = into.rowCount === 0;
  into.reserve(into.size + refs.reduce((sum, r) => sum + r.leases, 0));
  // One buffer for every file in turn: nothing of a file is kept once its leases are in the table.
  const buffer = { bytes: Buffer.alloc(0) };
  const runs: ShardRun[] = [];
  for (const ref of refs) {
    const dir = dirs.find((d) => fs.existsSync(path.join(d, ref.file))) ?? dirs[0];
    fromBackup ||= dir !== dirs[0];
    const read = readShard(path.join(dir, ref.file), ref, key, advice, into, buffer);
    bytes += read;
    runs.push({ end: into.rowCount, ref, bytes: read });
  }
  // Files read from backups/ are written again into the table's own directory at the next compaction.
  if (fresh && !fromBackup) into.persisted = runs;
  return { bytes, fromBackup };
}

/** A file's header: what it is, its leases, and each column's name, encoding, length and CRC-32. */
interface Header {
  log: 'lease-table';
  v: 1;
  leases: number;
  columns: Array<[string, ColumnKind, number, string]>;
}
const KINDS: readonly unknown[] = ['f64', 'i32', 'latin1', 'json'] satisfies ColumnKind[];

/** `value` as a {@link Header}, or null (checked by hand: a schema built at start costs more than the check). */
function asHeader(value: unknown): Header | null {
  if (typeof value !== 'object' || value === null) return null;
  const h = value as Record<string, unknown>;
  if (h.log !== 'lease-table' || h.v !== 1 || !Number.isSafeInteger(h.leases) || (h.leases as number) <= 0) return null;
  if (!Array.isArray(h.columns)) return null;
  for (const c of h.columns as unknown[]) {
    if (!Array.isArray(c) || c.length !== 4 || typeof c[0] !== 'string' || !KINDS.includes(c[1])) return null;
    if (!Number.isSafeInteger(c[2]) || (c[2] as number) < 0 || typeof c[3] !== 'string') return null;
  }
  return h as unknown as Header;
}
const SEAL_BYTES = 65;

/** The first bytes read of a file: its header line, in every file bella writes. */
const HEAD_BYTES = 65_536;

function readShard(
  file: string,
  ref: LeaseShardRef,
  key: Buffer,
  advice: string,
  into: LeaseTable,
  buffer: { bytes: Buffer },
): number {
  const damage = (offset: number, why: string) => logDamage(file, offset, why, advice);
  const unreadable = () => damage(0, 'it is missing, but state.snapshot names it as part of the lease table');
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    throw unreadable();
  }
  try {
    const read = (target: Uint8Array, at: number) => {
      try {
        return readFully(fd, target, at);
      } catch {
        throw unreadable();
      }
    };
    let size: number;
    try {
      size = fs.fstatSync(fd).size;
    } catch {
      throw unreadable();
    }
    // The header, then each column read where it belongs (the table's own columns when it can go
    // there: see LeaseTable.placeFor) and checked there; a header longer than HEAD_BYTES (never
    // bella's), the whole file into `buffer` first.
    let data = read(grow(buffer, Math.min(size, HEAD_BYTES)), 0);
    if (data.indexOf(0x0a) < 0 && size > data.length) data = read(grow(buffer, size), 0);
    const eol = data.indexOf(0x0a);
    const parsed = parseHeader(data, eol, damage);
    const sealAt = eol + 1 + parsed.columns.reduce((sum, c) => sum + c[2], 0);
    if (size < sealAt + SEAL_BYTES) throw damage(Math.min(size, sealAt), 'it ends before its seal (it was cut)');
    if (size > sealAt + SEAL_BYTES) throw damage(sealAt + SEAL_BYTES, 'bytes follow its seal');
    const hmac = createHmac('sha256', key).update(data.subarray(0, eol + 1));
    // The columns that do not go into the table's own (token hashes, reasons, dictionaries) share `buffer`.
    const count = parsed.leases;
    const direct = parsed.leases === ref.leases && idsFit(parsed.columns, count);
    const seen = new Set<string>();
    const places = parsed.columns.map(([name, kind, length]) => {
      const place = direct && !seen.has(name) ? into.placeFor(name, kind, length, count) : null;
      seen.add(name);
      return place;
    });
    const rest = parsed.columns.reduce((sum, c, i) => sum + (places[i] ? 0 : c[2]), 0);
    const scratch = grow(buffer, rest);
    const columns = new Map<string, { kind: ColumnKind; bytes: Buffer }>();
    const offsets = new Map<string, number>();
    let at = eol + 1;
    let free = 0;
    parsed.columns.forEach(([name, kind, length, crc], i) => {
      const target = places[i] ?? scratch.subarray(free, (free += length));
      const bytes = read(target, at);
      if (bytes.length < length) throw damage(at + bytes.length, 'it ends before its seal (it was cut)');
      if (crcHex(bytes) !== crc) throw damage(at, `its column ${name} fails its checksum`);
      if (!COLUMN_NAMES.includes(name) || columns.has(name)) throw damage(at, `${name} is not a lease table column`);
      hmac.update(bytes);
      offsets.set(name, at);
      columns.set(name, { kind, bytes });
      at += length;
    });
    const seal = read(Buffer.alloc(SEAL_BYTES), sealAt);
    // The seal is the keyed MAC of every byte before it: an edit with fixed-up checksums fails here.
    const expected = Buffer.from(hmac.digest('hex'), 'latin1');
    const sealed = seal.subarray(0, 64);
    if (seal.length < SEAL_BYTES || !timingSafeEqual(expected, sealed) || seal[64] !== 0x0a) {
      throw damage(sealAt, 'its seal does not match its records (the file was edited)');
    }
    // A whole, sealed file of another compaction (copied over this one) is refused too.
    if (sealed.toString('latin1') !== ref.mac || parsed.leases !== ref.leases) {
      throw damage(0, 'it is not the lease table file state.snapshot names (it was replaced)');
    }
    // Straight into the table's columns; a file whose ids are not all bella's 16 characters through objects.
    const problem = direct ? into.loadColumns(columns, ref.leases) : slowLoad(columns, ref.leases, into);
    if (problem && 'duplicate' in problem)
      throw damage(0, `lease ${problem.duplicate} is held twice in the lease table`);
    if (problem) {
      throw damage(
        offsets.get(problem.column) ?? 0,
        problem.why ?? `its column ${problem.column} is missing or malformed`,
      );
    }
    return size;
  } finally {
    fs.closeSync(fd);
  }
}

/** The header line (up to `eol`): its checksum, then its JSON as the schema has it. */
function parseHeader(data: Buffer, eol: number, damage: (offset: number, why: string) => Error): Header {
  const line = eol < 0 ? '' : data.toString('utf8', 0, eol);
  const space = line.indexOf(' ');
  const headerText = line.slice(space + 1);
  if (space !== 8 || line.slice(0, 8) !== crcHex(Buffer.from(headerText, 'utf8'))) {
    throw damage(0, 'its header fails its checksum (the file is cut or damaged)');
  }
  let value: unknown;
  try {
    value = JSON.parse(headerText);
  } catch {
    value = null;
  }
  const header = asHeader(value);
  if (!header) throw damage(0, 'it is not a bella lease table file');
  return header;
}

/** Whether the file's ids are all bella's 16 characters (the id column's size says so), so its rows load straight into the table. */
function idsFit(columns: Header['columns'], count: number): boolean {
  const id = columns.find((c) => c[0] === 'id');
  return id?.[1] === 'latin1' && id[2] === count * 16;
}

/** `buffer`'s bytes, at least `size` of them (grown when smaller), as a view of `size`. */
function grow(buffer: { bytes: Buffer }, size: number): Buffer {
  if (buffer.bytes.length < size) buffer.bytes = Buffer.allocUnsafeSlow(size);
  return buffer.bytes.subarray(0, size);
}

/** Reads a file's columns into lease objects, then into the table. */
function slowLoad(
  raw: Map<string, { kind: ColumnKind; bytes: Buffer }>,
  count: number,
  into: LeaseTable,
): LoadProblem | null {
  const columns = new Map<string, unknown>();
  for (const [name, { kind, bytes }] of raw) {
    try {
      columns.set(name, decodeColumn(kind, bytes));
    } catch (err) {
      return { column: name, why: `its column ${name} cannot be read (${(err as Error).message})` };
    }
  }
  const problem = columnsProblem(columns, count);
  if (problem) return { column: problem };
  let duplicate: string | null = null;
  fromColumns(columns, count, (lease) => {
    if (into.has(lease.id)) duplicate ??= lease.id;
    else into.set(lease.id, lease);
  });
  return duplicate === null ? null : { duplicate };
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
