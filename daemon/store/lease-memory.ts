import type { LeaseStatus } from '../api';
import type { LeaseDatabase, StoredLease } from './schema';
import {
  asciiInto,
  decodeB64,
  decodeHex,
  DICT_FIELDS,
  encodeB64,
  hashBytes,
  HASH_BYTES,
  hashText,
  ID_BYTES,
  newDicts,
  NULLABLE_NUMBERS,
  NUMBER_FIELDS,
  printable,
  printableIdHash,
  scanJsonStrings,
  scratch,
  type Dict,
  type DictField,
  type NumberField,
  wholeNumbers,
} from './lease-codec';
import { DICTS, jsonColumn, toColumns, type EncodedColumn } from './lease-columns';
import { LeaseRow, nullable } from './lease-row';
import type { ShardRun } from './lease-table';

// The active leases in memory: one row per lease in typed arrays instead of one object per lease.
// Times and counters are float64 columns; project, environment, status, scope, end reason and
// issuer are indexes into dictionaries (a few distinct values shared by every lease); ids are 16
// bytes and token hashes their 32 raw bytes; reasons loaded from the lease table's files stay
// bytes until one is read. `get` builds a lease object on demand: an object handed out is a copy,
// so every change goes back through `set` (or `recordUse`). Rows keep insertion order, as a Map's
// entries do; a deleted row is skipped until `pack` drops it.

const ALIVE = 1;
/** The id is not 16 printable ASCII characters: held in `oddIds`. */
const ODD_ID = 2;
/** The token hash is 43 base64url characters (hashToken's form), held as its 32 bytes. */
const TOKEN_B64 = 4;
/** The token hash is 64 lowercase hex digits, held as its 32 bytes. */
const TOKEN_HEX = 8;
/** The reason's bytes (in a loaded chunk) hold JSON escapes. */
const REASON_ESCAPED = 16;
/** Set, used or deleted since the lease table's files last held the row (see {@link LeaseTable.persisted}). */
const CHANGED = 32;

/** Why a file's columns could not be loaded: the column at fault, or a lease held twice. */
export type LoadProblem = { column: string; why?: string } | { duplicate: string };

/** The columns of one lease table file, as {@link LeaseTable.loadColumns} takes them: raw bytes, CRC- and MAC-checked. */
export interface RawColumns {
  get(name: string): { kind: string; bytes: Buffer } | undefined;
}

/** Active leases as typed columns, with the Map-like surface the services use. */
export class LeaseTable {
  private cap = 0;
  /** Rows used, deleted ones included. */
  private used = 0;
  private live = 0;
  private flags = new Uint8Array(0);
  private ids: Buffer = Buffer.alloc(0);
  private hashes: Buffer = Buffer.alloc(0);
  /** @internal Read by {@link LeaseRow}, as are `dictOf` and `dicts`. */
  num = Object.fromEntries(NUMBER_FIELDS.map((f) => [f, new Float64Array(0)])) as Record<NumberField, Float64Array>;
  /** @internal */
  dictOf = Object.fromEntries(DICT_FIELDS.map((f) => [f, new Int32Array(0)])) as Record<DictField, Int32Array>;
  /** @internal */
  dicts = newDicts();
  /** Per row: the loaded chunk holding its reason (-1: in `reasonText`), and where in it. */
  private reasonChunk = new Int32Array(0);
  private reasonAt = new Uint32Array(0);
  private reasonLen = new Uint32Array(0);
  private chunks: Buffer[] = [];
  private reasonText = new Map<number, string>();
  private oddIds = new Map<number, string>();
  private oddHashes = new Map<number, string>();
  private databases = new Map<number, LeaseDatabase>();
  /** Open addressing over the ids: row + 1, 0 for an empty slot. */
  private slots = new Int32Array(16);
  /** Told when rows are renumbered (kept across {@link adopt}). */
  private renumbered: Array<(map: Int32Array | null) => void> = [];
  /**
   * Which lease table file holds each run of rows as it was last written or read (rows of a run
   * not {@link changedIn} since are in that file as they are now); empty when unknown. Packing
   * renumbers the rows, so a packed table starts with none.
   */
  persisted: ShardRun[] = [];

  /** Live leases. */
  get size(): number {
    return this.live;
  }

  /** Rows in use, those of deleted leases not yet packed included: every row is below it. */
  get rowCount(): number {
    return this.used;
  }

  has(id: string): boolean {
    return this.find(id) >= 0;
  }

  /**
   * The row holding lease `id`, or -1: stable while the lease is in the table, until the table is
   * packed or replaced ({@link onRenumber} says when).
   */
  rowOf(id: string): number {
    return this.find(id);
  }

  /** The id of the lease in row `r` (a row {@link rowOf} or {@link rows} gave). */
  idAt(r: number): string {
    return this.idOf(r);
  }

  /**
   * Runs `listener` whenever rows are renumbered: with the map from old row to new (-1: gone)
   * after {@link pack}, or with null when the table's rows were replaced ({@link adopt}, {@link clear}).
   */
  onRenumber(listener: (map: Int32Array | null) => void): void {
    this.renumbered.push(listener);
  }

  /** A copy of the lease: change it, then hand it back to {@link set}. */
  get(id: string): StoredLease | undefined {
    const r = this.find(id);
    return r < 0 ? undefined : this.lease(r);
  }

  /** Adds or replaces a lease (a replaced one keeps its place in the order, as in a Map). */
  set(id: string, lease: StoredLease): this {
    if (lease.id !== id) throw new Error(`lease ${lease.id} set under the id ${id}`);
    let r = this.find(id);
    if (r < 0) {
      this.reserve(this.used + 1);
      r = this.used++;
      this.live++;
      this.writeId(r, id);
      this.flags[r] = ALIVE | (this.flags[r]! & ODD_ID);
      this.reasonChunk[r] = -1;
      this.index(r, hashText(id));
    }
    this.writeRow(r, lease);
    return this;
  }

  /**
   * Ends the lease in row `r` in place (status, end time and reason), as `set` of its copy so
   * changed would: a transaction ending many leases builds no copy of each.
   */
  end(r: number, status: 'expired' | 'revoked', at: number, reason: string): void {
    if (r < 0 || r >= this.used || !(this.flags[r]! & ALIVE)) throw new Error(`no lease in row ${r}`);
    this.dictOf.status[r] = this.dicts.status.intern(status);
    this.num.endedAt[r] = at;
    this.dictOf.endReason[r] = this.dicts.endReason.intern(reason);
    this.flags[r] = this.flags[r]! | CHANGED;
  }

  /** A cursor standing on row `r` (see {@link rows}): its fields are read from the columns. */
  at(r: number): LeaseRow {
    const cursor = new LeaseRow(this);
    cursor.r = r;
    return cursor;
  }

  delete(id: string): boolean {
    const r = this.find(id);
    if (r < 0) return false;
    this.flags[r] = (this.flags[r]! & ~ALIVE) | CHANGED;
    this.live--;
    this.reasonText.delete(r);
    this.oddHashes.delete(r);
    this.databases.delete(r);
    return true;
  }

  /** Notes one successful token read: uses + 1 and the time, on the lease as it is now. */
  recordUse(id: string, at: number): boolean {
    const r = this.find(id);
    if (r < 0) return false;
    this.num.lastUsedAt[r] = at;
    this.num.uses[r]! += 1;
    this.flags[r] = this.flags[r]! | CHANGED;
    return true;
  }

  clear(): void {
    this.adopt(new LeaseTable());
  }

  *keys(): Generator<string> {
    for (let r = 0; r < this.used; r++) if (this.flags[r]! & ALIVE) yield this.idOf(r);
  }

  *values(): Generator<StoredLease> {
    for (let r = 0; r < this.used; r++) if (this.flags[r]! & ALIVE) yield this.lease(r);
  }

  *entries(): Generator<[string, StoredLease]> {
    for (let r = 0; r < this.used; r++) if (this.flags[r]! & ALIVE) yield [this.idOf(r), this.lease(r)];
  }

  /**
   * Every live lease, in order (newest first with `reverse`), through one cursor that reads its
   * fields from the columns: a scan over many leases builds only the leases it keeps.
   */
  *rows(reverse = false): Generator<LeaseRow> {
    const cursor = new LeaseRow(this);
    if (reverse) {
      for (let r = this.used - 1; r >= 0; r--) {
        if (r >= this.used || !(this.flags[r]! & ALIVE)) continue;
        cursor.r = r;
        yield cursor;
      }
    } else {
      for (let r = 0; r < this.used; r++) {
        if (!(this.flags[r]! & ALIVE)) continue;
        cursor.r = r;
        yield cursor;
      }
    }
  }

  /**
   * Calls `visit` with a cursor on every live lease, in order (newest first with `reverse`), as
   * {@link rows} does but with nothing allocated per row (no iterator result): for scans that run
   * over every lease on each request (a list page, counts).
   */
  scan(visit: (row: LeaseRow) => void, reverse = false): void {
    const cursor = new LeaseRow(this);
    const step = reverse ? -1 : 1;
    for (let r = reverse ? this.used - 1 : 0; r >= 0 && r < this.used; r += step) {
      if (!(this.flags[r]! & ALIVE)) continue;
      cursor.r = r;
      visit(cursor);
    }
  }

  /**
   * Calls `visit` for every live lease whose status is `status`, in row order, with its row, the
   * codes of its project and environment in `dicts`, its expiry, the expiry it was warned for (-1:
   * none) and when its period started (renewed, else issued): a pass over every lease that reads
   * only numbers (the lifecycle's start), with no cursor or string per row.
   */
  scanDeadlines(
    status: LeaseStatus,
    visit: (
      r: number,
      project: number,
      environment: number,
      expiresAt: number,
      warnedFor: number,
      periodStart: number,
    ) => void,
  ): void {
    const statuses = this.dicts.status.values;
    const wanted = new Uint8Array(statuses.length);
    for (let i = 0; i < statuses.length; i++) wanted[i] = statuses[i] === status ? 1 : 0;
    const { status: statusOf, project, environment } = this.dictOf;
    const { expiresAt, warnedFor, renewedAt, issuedAt } = this.num;
    for (let r = 0; r < this.used; r++) {
      if (!(this.flags[r]! & ALIVE) || !wanted[statusOf[r]!]) continue;
      const renewed = renewedAt[r]!;
      visit(r, project[r]!, environment[r]!, expiresAt[r]!, warnedFor[r]!, renewed < 0 ? issuedAt[r]! : renewed);
    }
  }

  /** @internal Row `r`'s id, reason, database login or whole lease, for {@link LeaseRow}. */
  field(r: number, what: 'id' | 'reason'): string;
  field(r: number, what: 'database'): LeaseDatabase | undefined;
  field(r: number, what: 'lease'): StoredLease;
  field(r: number, what: 'id' | 'reason' | 'database' | 'lease'): string | LeaseDatabase | undefined | StoredLease {
    if (what === 'id') return this.idOf(r);
    if (what === 'reason') return this.reasonOf(r);
    if (what === 'database') return this.databases.get(r);
    return this.lease(r);
  }

  [Symbol.iterator](): Generator<[string, StoredLease]> {
    return this.entries();
  }

  /** Whether a row in [start, end) was set, used or deleted since it was last {@link takeRows taken}. */
  changedIn(start: number, end: number): boolean {
    for (let r = start; r < end; r++) if (this.flags[r]! & CHANGED) return true;
    return false;
  }

  /** The live leases of rows [start, end) in order, for a lease table file; the rows count as saved. */
  takeRows(start: number, end: number): StoredLease[] {
    const out: StoredLease[] = [];
    for (let r = start; r < end; r++) {
      if (this.flags[r]! & ALIVE) out.push(this.lease(r));
      this.flags[r] = this.flags[r]! & ~CHANGED;
    }
    return out;
  }

  /**
   * The columns of a lease table file holding the live leases of rows [start, end), and how many
   * leases that is; the rows count as saved. Encoded from the table's own columns, with no lease
   * object per row: the same bytes as {@link toColumns} of {@link takeRows}, which rows whose id or
   * token hash is in none of bella's forms (or whose hashes mix forms) still go through.
   */
  takeColumns(start: number, end: number): { count: number; columns: EncodedColumn[] } {
    const rows: number[] = [];
    let form = -1;
    let mixed = false;
    for (let r = start; r < end; r++) {
      const flags = this.flags[r]!;
      if (!(flags & ALIVE)) continue;
      const hashForm = flags & (TOKEN_B64 | TOKEN_HEX);
      if (flags & ODD_ID || hashForm === 0 || (form >= 0 && hashForm !== form)) mixed = true;
      form = hashForm;
      rows.push(r);
    }
    if (mixed) {
      const leases = this.takeRows(start, end);
      return { count: leases.length, columns: toColumns(leases) };
    }
    for (let r = start; r < end; r++) this.flags[r] = this.flags[r]! & ~CHANGED;
    const count = rows.length;
    if (count === 0) return { count, columns: [] };
    const ids = Buffer.allocUnsafe(count * ID_BYTES);
    const width = form === TOKEN_B64 ? 43 : 64;
    const hashes = Buffer.allocUnsafe(count * width);
    for (let i = 0; i < count;) {
      // Ids of consecutive rows in one copy.
      let j = i + 1;
      while (j < count && rows[j] === rows[i]! + (j - i)) j++;
      this.ids.copy(ids, i * ID_BYTES, rows[i]! * ID_BYTES, (rows[j - 1]! + 1) * ID_BYTES);
      for (; i < j; i++) {
        if (form === TOKEN_B64) encodeB64(this.hashes, rows[i]! * HASH_BYTES, hashes, i * width);
        else hashes.write(this.hashOf(rows[i]!), i * width, 'latin1');
      }
    }
    const out: EncodedColumn[] = [
      { name: 'id', kind: 'latin1', bytes: ids },
      { name: 'tokenHash', kind: 'latin1', bytes: hashes },
    ];
    // A file's dictionaries hold the values its rows use, in the order they first appear.
    for (const f of DICTS) {
      const values: readonly unknown[] = this.dicts[f].values;
      const fileIndex = new Int32Array(values.length).fill(-1);
      const used: unknown[] = [];
      const v = new Int32Array(count);
      const of = this.dictOf[f];
      for (let i = 0; i < count; i++) {
        const x = of[rows[i]!]!;
        if (x < 0 || values[x] === null) v[i] = -1;
        else v[i] = fileIndex[x]! >= 0 ? fileIndex[x]! : (fileIndex[x] = used.push(values[x]) - 1);
      }
      out.push(jsonColumn(`${f}.d`, used), { name: `${f}.v`, kind: 'i32', bytes: Buffer.from(v.buffer) });
    }
    out.push(
      jsonColumn(
        'reason',
        rows.map((r) => this.reasonOf(r)),
      ),
    );
    for (const f of NUMBER_FIELDS) {
      const from = this.num[f];
      const orNull = NULLABLE_NUMBERS.has(f);
      const v = new Float64Array(count);
      for (let i = 0; i < count; i++) {
        const x = from[rows[i]!]!;
        v[i] = orNull && x < 0 ? -1 : x;
      }
      out.push({ name: f, kind: 'f64', bytes: Buffer.from(v.buffer) });
    }
    const extra: Array<[number, { by?: string; database?: LeaseDatabase }]> = [];
    rows.forEach((r, i) => {
      const by = this.dictOf.by[r]!;
      const database = this.databases.get(r);
      if (by < 0 && !database) return;
      extra.push([i, { ...(by >= 0 ? { by: this.dicts.by.values[by]! } : {}), ...(database ? { database } : {}) }]);
    });
    out.push(jsonColumn('extra', extra));
    return { count, columns: out };
  }

  /** Takes over another table's rows (this object stays the one the services hold). */
  adopt(other: LeaseTable): void {
    this.takeOver(other);
    for (const listener of this.renumbered) listener(null);
  }

  private takeOver(other: LeaseTable): void {
    const listeners = this.renumbered;
    Object.assign(this, other);
    this.renumbered = listeners;
  }

  /**
   * Drops deleted rows, unused dictionary values and the loaded reason bytes no row needs any
   * more, once deleted rows are more than `deadShare` of the rows. Never called while the table is
   * iterated (compaction runs between transactions).
   */
  pack(deadShare = 0): void {
    // Worth it once rows are gone, or a dictionary holds more values than there are leases.
    const bloated = DICT_FIELDS.some((f) => this.dicts[f].values.length > this.live);
    const dead = this.used - this.live;
    if ((dead === 0 || dead < this.used * deadShare) && !bloated) return;
    const to = new LeaseTable();
    to.reserve(this.live);
    const remap = Object.fromEntries(
      DICT_FIELDS.map((f) => [f, new Int32Array(this.dicts[f].values.length).fill(-1)]),
    ) as Record<DictField, Int32Array>;
    const chunkMap = new Map<number, number>();
    const map = new Int32Array(this.used).fill(-1);
    for (let r = 0; r < this.used; r++) {
      if (!(this.flags[r]! & ALIVE)) continue;
      const t = to.used++;
      map[r] = t;
      to.live++;
      to.flags[t] = this.flags[r]!;
      this.ids.copy(to.ids, t * ID_BYTES, r * ID_BYTES, (r + 1) * ID_BYTES);
      this.hashes.copy(to.hashes, t * HASH_BYTES, r * HASH_BYTES, (r + 1) * HASH_BYTES);
      for (const f of NUMBER_FIELDS) to.num[f][t] = this.num[f][r]!;
      for (const f of DICT_FIELDS) {
        const v = this.dictOf[f][r]!;
        if (v < 0) to.dictOf[f][t] = -1;
        else {
          if (remap[f][v]! < 0) remap[f][v] = (to.dicts[f] as Dict<unknown>).intern(this.dicts[f].values[v]);
          to.dictOf[f][t] = remap[f][v]!;
        }
      }
      const chunk = this.reasonChunk[r]!;
      if (chunk < 0) {
        to.reasonChunk[t] = -1;
        to.reasonText.set(t, this.reasonText.get(r)!);
      } else {
        let c = chunkMap.get(chunk);
        if (c === undefined) chunkMap.set(chunk, (c = to.chunks.push(this.chunks[chunk]!) - 1));
        to.reasonChunk[t] = c;
        to.reasonAt[t] = this.reasonAt[r]!;
        to.reasonLen[t] = this.reasonLen[r]!;
      }
      for (const m of ['oddIds', 'oddHashes', 'databases'] as const) {
        const v = this[m].get(r);
        if (v !== undefined) (to[m] as Map<number, unknown>).set(t, v);
      }
      to.index(t, to.flags[t]! & ODD_ID ? hashText(to.oddIds.get(t)!) : hashBytes(to.ids, t * ID_BYTES));
    }
    this.takeOver(to);
    for (const listener of this.renumbered) listener(map);
  }

  /** Makes room for `rows` rows in all (and an index at most half full). */
  reserve(rows: number): void {
    if (rows > this.cap) {
      const cap = Math.max(rows, 16, Math.ceil(this.cap * 1.5));
      const grow = <A extends Float64Array | Int32Array | Uint32Array | Uint8Array>(a: A, make: (n: number) => A) => {
        const b = make(cap);
        b.set(a);
        return b;
      };
      this.flags = grow(this.flags, (n) => new Uint8Array(n));
      this.ids = grow(this.ids, (n) => Buffer.alloc(n * ID_BYTES)) as Buffer;
      this.hashes = grow(this.hashes, (n) => Buffer.alloc(n * HASH_BYTES)) as Buffer;
      for (const f of NUMBER_FIELDS) this.num[f] = grow(this.num[f], (n) => new Float64Array(n));
      for (const f of DICT_FIELDS) this.dictOf[f] = grow(this.dictOf[f], (n) => new Int32Array(n));
      this.reasonChunk = grow(this.reasonChunk, (n) => new Int32Array(n));
      this.reasonAt = grow(this.reasonAt, (n) => new Uint32Array(n));
      this.reasonLen = grow(this.reasonLen, (n) => new Uint32Array(n));
      this.cap = cap;
    }
    if (rows * 2 > this.slots.length) {
      let n = this.slots.length;
      while (rows * 2 > n) n *= 2;
      this.slots = new Int32Array(n);
      for (let r = 0; r < this.used; r++) {
        if (this.flags[r]! & ALIVE)
          this.index(r, this.flags[r]! & ODD_ID ? hashText(this.oddIds.get(r)!) : hashBytes(this.ids, r * ID_BYTES));
      }
    }
  }

  /**
   * Appends the leases of one lease table file, straight from its column bytes (no object per
   * lease). Returns what is wrong when the columns are not what bella writes; the table is then
   * left part-loaded, and the caller refuses to start.
   */
  loadColumns(c: RawColumns, count: number): LoadProblem | null {
    const base = this.used;
    this.reserve(base + count);
    const end = base + count;
    // Ids: `count` slices of 16 printable ASCII bytes, copied as they are.
    const id = c.get('id');
    if (!id || id.kind !== 'latin1' || id.bytes.length !== count * ID_BYTES) return { column: 'id' };
    // Each id's bytes are checked printable as they are hashed into the index, below.
    place(id.bytes, this.ids, base * ID_BYTES);
    this.flags.fill(ALIVE, base, end);
    const token = this.loadHashes(c.get('tokenHash'), base, count);
    if (token) return token;
    for (const f of DICT_FIELDS) {
      if (f === 'by') continue;
      const problem = this.loadDict(c, f, base, count);
      if (problem) return problem;
    }
    this.dictOf.by.fill(-1, base, end);
    const reason = this.loadReasons(c.get('reason'), base, count);
    if (reason) return reason;
    for (const f of NUMBER_FIELDS) {
      const col = c.get(f);
      if (!col || col.kind !== 'f64' || col.bytes.length !== count * 8) return { column: f };
      const target = this.num[f];
      place(col.bytes, target, base * 8);
      if (!wholeNumbers(target, base, end, NULLABLE_NUMBERS.has(f) ? -1 : 0)) return { column: f };
    }
    const extra = this.loadExtra(c.get('extra'), base, count);
    if (extra) return extra;
    for (let r = base; r < end; r++) {
      const h = printableIdHash(this.ids, r * ID_BYTES);
      if (h < 0) return { column: 'id' };
      if (!this.indexNew(r, h)) return { duplicate: this.idOf(r) };
      this.used++;
      this.live++;
    }
    return null;
  }

  /**
   * Where column `name` (`kind`, `length` bytes) of the next file's `count` rows belongs in the
   * table, when it can be read from the file straight into place (ids, number columns and
   * dictionary indexes of the sizes bella writes): a view of the rows after the last, which
   * {@link loadColumns} then validates where they are. Null for any other column.
   */
  placeFor(name: string, kind: string, length: number, count: number): Buffer | null {
    const base = this.used;
    this.reserve(base + count);
    if (name === 'id')
      return kind === 'latin1' && length === count * ID_BYTES ? view(this.ids, base * ID_BYTES, length) : null;
    if (kind === 'f64' && length === count * 8 && NUMBER_FIELDS.includes(name as NumberField)) {
      return view(this.num[name as NumberField], base * 8, length);
    }
    const dict = name.endsWith('.v') ? (name.slice(0, -2) as DictField) : null;
    if (kind === 'i32' && length === count * 4 && dict !== null && dict !== 'by' && DICT_FIELDS.includes(dict)) {
      return view(this.dictOf[dict], base * 4, length);
    }
    return null;
  }

  private loadHashes(col: { kind: string; bytes: Buffer } | undefined, base: number, count: number) {
    const bad = { column: 'tokenHash' };
    if (col?.kind === 'json') {
      // Hashes of different lengths (never bella's own) are written as a JSON array.
      let hashes: unknown;
      try {
        hashes = JSON.parse(col.bytes.toString('utf8'));
      } catch {
        return bad;
      }
      if (!Array.isArray(hashes) || hashes.length !== count) return bad;
      for (let i = 0; i < count; i++) {
        const h: unknown = hashes[i];
        if (typeof h !== 'string' || h.length === 0) return bad;
        this.flags[base + i] = this.flags[base + i]! | this.writeHash(base + i, h);
      }
      return null;
    }
    if (!col || col.kind !== 'latin1' || col.bytes.length === 0 || col.bytes.length % count) return bad;
    const w = col.bytes.length / count;
    const b = col.bytes;
    for (let i = 0; i < count; i++) {
      const r = base + i;
      const o = r * HASH_BYTES;
      if (w === 43 && decodeB64(b, i * w, this.hashes, o)) this.flags[r] = this.flags[r]! | TOKEN_B64;
      else if (w === 64 && decodeHex(b, i * w, this.hashes, o)) this.flags[r] = this.flags[r]! | TOKEN_HEX;
      else this.oddHashes.set(r, b.toString('latin1', i * w, (i + 1) * w));
    }
    return null;
  }

  private loadDict(c: RawColumns, f: Exclude<DictField, 'by'>, base: number, count: number): LoadProblem | null {
    const d = c.get(`${f}.d`);
    const valid: Record<typeof f, (x: unknown) => boolean> = {
      project: (x) => typeof x === 'string',
      environment: (x) => typeof x === 'string',
      endReason: (x) => typeof x === 'string',
      status: (x) => x === 'active' || x === 'expired' || x === 'revoked',
      scope: (x) => Array.isArray(x) && x.length > 0 && x.every((k) => typeof k === 'string' && k.length > 0),
    };
    let values: unknown;
    try {
      values = d?.kind === 'json' ? JSON.parse(d.bytes.toString('utf8')) : null;
    } catch {
      values = null;
    }
    if (!Array.isArray(values) || !values.every(valid[f])) return { column: `${f}.d` };
    const dict = this.dicts[f] as Dict<unknown>;
    const remap = Int32Array.from(values, (v: unknown) => dict.intern(f === 'scope' ? Object.freeze(v) : v));
    const v = c.get(`${f}.v`);
    if (!v || v.kind !== 'i32' || v.bytes.length !== count * 4) return { column: `${f}.v` };
    const target = this.dictOf[f];
    place(v.bytes, target, base * 4);
    const min = f === 'endReason' ? -1 : 0;
    for (let r = base; r < base + count; r++) {
      const x = target[r]!;
      if (x < min || x >= remap.length) return { column: `${f}.v` };
      target[r] = x < 0 ? -1 : remap[x]!;
    }
    return null;
  }

  /**
   * The reasons: a JSON array of strings, kept as bytes with each string's place (validated here,
   * so reading one later cannot fail).
   */
  private loadReasons(col: { kind: string; bytes: Buffer } | undefined, base: number, count: number) {
    const bad = { column: 'reason' };
    if (!col || col.kind !== 'json') return bad;
    const b = Buffer.from(col.bytes); // a copy: the file's buffer is not kept alive by it
    const chunk = this.chunks.push(b) - 1;
    const ok = scanJsonStrings(b, count, (i, start, length, escaped) => {
      const r = base + i;
      this.reasonChunk[r] = chunk;
      this.reasonAt[r] = start;
      this.reasonLen[r] = length;
      if (escaped) this.flags[r] = this.flags[r]! | REASON_ESCAPED;
    });
    return ok ? null : bad;
  }

  private loadExtra(col: { kind: string; bytes: Buffer } | undefined, base: number, count: number) {
    let extra: unknown;
    try {
      extra = col?.kind === 'json' ? JSON.parse(col.bytes.toString('utf8')) : null;
    } catch {
      extra = null;
    }
    if (!Array.isArray(extra)) return { column: 'extra' };
    for (const e of extra as unknown[]) {
      if (!Array.isArray(e) || !Number.isInteger(e[0]) || e[0] < 0 || e[0] >= count) return { column: 'extra' };
      const fields = e[1] as { by?: unknown; database?: LeaseDatabase } | null;
      if (typeof fields !== 'object' || fields === null) return { column: 'extra' };
      const r = base + (e[0] as number);
      if (fields.by !== undefined) {
        if (typeof fields.by !== 'string') return { column: 'extra' };
        this.dictOf.by[r] = this.dicts.by.intern(fields.by);
      }
      if (fields.database !== undefined) this.databases.set(r, fields.database);
    }
    return null;
  }

  private find(id: string): number {
    if (this.live === 0) return -1;
    const mask = this.slots.length - 1;
    for (let s = hashText(id) & mask; ; s = (s + 1) & mask) {
      const r = this.slots[s]! - 1;
      if (r < 0) return -1;
      if (this.flags[r]! & ALIVE && this.idIs(r, id)) return r;
    }
  }

  /**
   * Indexes row `row` (id bytes hashed to `h`) unless a live row already holds its id: then false.
   * One probe both checks and inserts.
   */
  private indexNew(row: number, h: number): boolean {
    const mask = this.slots.length - 1;
    let s = h & mask;
    for (; this.slots[s] !== 0; s = (s + 1) & mask) {
      const r = this.slots[s]! - 1;
      if (this.flags[r]! & ALIVE && !(this.flags[r]! & ODD_ID) && this.sameId(row, r)) return false;
    }
    this.slots[s] = row + 1;
    return true;
  }

  private sameId(a: number, b: number): boolean {
    const ids = this.ids;
    for (let i = 0; i < ID_BYTES; i++) if (ids[a * ID_BYTES + i] !== ids[b * ID_BYTES + i]) return false;
    return true;
  }

  private index(r: number, h: number): void {
    const mask = this.slots.length - 1;
    let s = h & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = r + 1;
  }

  private idIs(r: number, id: string): boolean {
    if (this.flags[r]! & ODD_ID) return this.oddIds.get(r) === id;
    if (id.length !== ID_BYTES) return false;
    const at = r * ID_BYTES;
    for (let i = 0; i < ID_BYTES; i++) if (this.ids[at + i] !== id.charCodeAt(i)) return false;
    return true;
  }

  private idOf(r: number): string {
    if (this.flags[r]! & ODD_ID) return this.oddIds.get(r)!;
    return this.ids.toString('latin1', r * ID_BYTES, (r + 1) * ID_BYTES);
  }

  private writeId(r: number, id: string): void {
    let plain = id.length === ID_BYTES;
    for (let i = 0; plain && i < ID_BYTES; i++) plain = printable(id.charCodeAt(i));
    if (plain) {
      this.ids.write(id, r * ID_BYTES, 'latin1');
      this.flags[r] = 0;
      this.oddIds.delete(r);
    } else {
      this.ids.fill(0, r * ID_BYTES, (r + 1) * ID_BYTES);
      this.flags[r] = ODD_ID;
      this.oddIds.set(r, id);
    }
  }

  private writeRow(r: number, lease: StoredLease): void {
    let flags = (this.flags[r]! & (ALIVE | ODD_ID)) | CHANGED;
    flags |= this.writeHash(r, lease.tokenHash);
    // A reason read from a file and unchanged stays as its bytes.
    const keep = this.reasonChunk[r]! >= 0 && this.reasonOf(r) === lease.reason;
    if (keep) flags |= this.flags[r]! & REASON_ESCAPED;
    else {
      this.reasonChunk[r] = -1;
      this.reasonText.set(r, lease.reason);
    }
    this.flags[r] = flags;
    for (const f of NUMBER_FIELDS) this.num[f][r] = lease[f] ?? -1;
    const d = this.dicts;
    this.dictOf.project[r] = d.project.intern(lease.project);
    this.dictOf.environment[r] = d.environment.intern(lease.environment);
    this.dictOf.status[r] = d.status.intern(lease.status);
    this.dictOf.scope[r] = d.scope.intern(Array.isArray(lease.scope) ? Object.freeze([...lease.scope]) : lease.scope);
    this.dictOf.endReason[r] = lease.endReason === null ? -1 : d.endReason.intern(lease.endReason);
    this.dictOf.by[r] = lease.by === undefined ? -1 : d.by.intern(lease.by);
    if (lease.database) this.databases.set(r, { ...lease.database });
    else this.databases.delete(r);
  }

  /** Holds a token hash as its 32 bytes when it is in one of bella's forms; returns the flag saying which. */
  private writeHash(r: number, hash: string): number {
    const o = r * HASH_BYTES;
    this.oddHashes.delete(r);
    if (typeof hash !== 'string') {
      // Only a test's partial lease has none; kept as it came.
      this.oddHashes.set(r, hash);
      return 0;
    }
    const ascii = (hash.length === 43 || hash.length === 64) && asciiInto(hash);
    if (ascii && hash.length === 43 && decodeB64(scratch, 0, this.hashes, o)) return TOKEN_B64;
    if (ascii && hash.length === 64 && decodeHex(scratch, 0, this.hashes, o)) return TOKEN_HEX;
    this.oddHashes.set(r, hash);
    return 0;
  }

  private reasonOf(r: number): string {
    const chunk = this.reasonChunk[r]!;
    if (chunk < 0) return this.reasonText.get(r)!;
    const b = this.chunks[chunk]!;
    const at = this.reasonAt[r]!;
    const end = at + this.reasonLen[r]!;
    // Validated at load: the quoted bytes are a JSON string.
    if (this.flags[r]! & REASON_ESCAPED) return JSON.parse(b.toString('utf8', at - 1, end + 1)) as string;
    return b.toString('utf8', at, end);
  }

  private hashOf(r: number): string {
    const flags = this.flags[r]!;
    const o = r * HASH_BYTES;
    if (flags & TOKEN_B64) return this.hashes.toString('base64url', o, o + HASH_BYTES);
    if (flags & TOKEN_HEX) return this.hashes.toString('hex', o, o + HASH_BYTES);
    return this.oddHashes.get(r)!;
  }

  private lease(r: number): StoredLease {
    const n = this.num;
    const d = this.dicts;
    const endReason = this.dictOf.endReason[r]!;
    const lease: StoredLease = {
      id: this.idOf(r),
      project: d.project.values[this.dictOf.project[r]!]!,
      environment: d.environment.values[this.dictOf.environment[r]!]!,
      scope: d.scope.values[this.dictOf.scope[r]!] as string[],
      reason: this.reasonOf(r),
      issuedAt: n.issuedAt[r]!,
      expiresAt: n.expiresAt[r]!,
      ttlSeconds: n.ttlSeconds[r]!,
      status: d.status.values[this.dictOf.status[r]!] as LeaseStatus,
      renewals: n.renewals[r]!,
      renewedAt: nullable(n.renewedAt[r]!),
      lastUsedAt: nullable(n.lastUsedAt[r]!),
      endedAt: nullable(n.endedAt[r]!),
      endReason: endReason < 0 ? null : d.endReason.values[endReason]!,
      tokenHash: this.hashOf(r),
      epoch: n.epoch[r]!,
      warnedFor: nullable(n.warnedFor[r]!),
      uses: n.uses[r]!,
    };
    const by = this.dictOf.by[r]!;
    if (by >= 0) lease.by = d.by.values[by]!;
    const database = this.databases.get(r);
    if (database) lease.database = { ...database };
    return lease;
  }
}

/** `length` bytes of `target` from byte `at`, as a Buffer over the same memory. */
function view(target: ArrayBufferView, at: number, length: number): Buffer {
  return Buffer.from(target.buffer, target.byteOffset + at, length);
}

/** Copies `bytes` into `target` from byte `at`, unless they were read there already ({@link LeaseTable.placeFor}). */
function place(bytes: Buffer, target: ArrayBufferView, at: number): void {
  if (bytes.buffer === target.buffer && bytes.byteOffset === target.byteOffset + at) return;
  view(target, at, bytes.length).set(bytes);
}
