import { LEASE_STATUSES, type LeaseStatus } from '../api';
import { NULLABLE_NUMBERS, NUMBER_FIELDS, type NumberField } from './lease-codec';
import type { LeaseDatabase, StoredLease } from './schema';

// Active leases as typed columns instead of one JSON object per lease: the lease table's files
// hold these. Times and counters are float64 arrays and dictionary indexes int32 arrays (read by
// copying bytes, nothing parsed); ids and token hashes are one latin1 string each, cut into equal
// slices; repeated strings (project, environment, status, scope, end reason) are dictionaries;
// only the reasons and the dictionaries are JSON.

/** How a column's bytes are encoded. */
export type ColumnKind = 'f64' | 'i32' | 'latin1' | 'json';

/** One column, encoded. */
export interface EncodedColumn {
  name: string;
  kind: ColumnKind;
  bytes: Buffer;
}

/** Dictionary-encoded columns, in the order written. */
export const DICTS = ['project', 'environment', 'status', 'scope', 'endReason'] as const;
type DictField = (typeof DICTS)[number];
/** Fixed-width ASCII columns. */
const PACKED = ['id', 'tokenHash'] as const;
/** The fields a lease has only sometimes (`by`, `database`), by lease index. */
type Extra = [number, { by?: string; database?: LeaseDatabase }];

/** Every column a lease table file holds, in the order written. */
export const COLUMN_NAMES: readonly string[] = [
  ...PACKED,
  ...DICTS.flatMap((d) => [`${d}.d`, `${d}.v`]),
  'reason',
  ...NUMBER_FIELDS,
  'extra',
];

/** A column of JSON text. */
export const jsonColumn = (name: string, value: unknown): EncodedColumn => ({
  name,
  kind: 'json',
  bytes: Buffer.from(JSON.stringify(value), 'utf8'),
});

const ascii = (s: string) => /^[\x20-\x7e]*$/.test(s);

/** The columns of `leases`, in their order. */
export function toColumns(leases: StoredLease[]): EncodedColumn[] {
  const out: EncodedColumn[] = [];
  for (const field of PACKED) {
    const values = leases.map((l) => l[field]);
    const w = values[0]?.length ?? 0;
    const fixed = w > 0 && values.every((v) => v.length === w && ascii(v));
    out.push(
      fixed
        ? { name: field, kind: 'latin1', bytes: Buffer.from(values.join(''), 'latin1') }
        : jsonColumn(field, values),
    );
  }
  for (const field of DICTS) {
    const index = new Map<string, number>();
    const d: unknown[] = [];
    const v = new Int32Array(leases.length);
    leases.forEach((l, i) => {
      const value = l[field];
      if (value === null) return void (v[i] = -1);
      const key = typeof value === 'string' ? value : JSON.stringify(value);
      let at = index.get(key);
      if (at === undefined) {
        at = d.push(value) - 1;
        index.set(key, at);
      }
      v[i] = at;
    });
    out.push(jsonColumn(`${field}.d`, d), { name: `${field}.v`, kind: 'i32', bytes: Buffer.from(v.buffer) });
  }
  out.push(
    jsonColumn(
      'reason',
      leases.map((l) => l.reason),
    ),
  );
  for (const field of NUMBER_FIELDS) {
    const v = Float64Array.from(leases, (l) => l[field] ?? -1);
    out.push({ name: field, kind: 'f64', bytes: Buffer.from(v.buffer) });
  }
  const extra: Extra[] = [];
  leases.forEach((l, i) => {
    if (l.by === undefined && l.database === undefined) return;
    extra.push([i, { ...(l.by !== undefined ? { by: l.by } : {}), ...(l.database ? { database: l.database } : {}) }]);
  });
  out.push(jsonColumn('extra', extra));
  return out;
}

/** A column read back: decoded, or why it cannot be. */
export function decodeColumn(kind: ColumnKind, bytes: Buffer): unknown {
  switch (kind) {
    case 'json':
      return JSON.parse(bytes.toString('utf8')) as unknown;
    case 'latin1':
      return bytes.toString('latin1');
    case 'f64':
    case 'i32': {
      const size = kind === 'f64' ? 8 : 4;
      if (bytes.length % size) throw new Error('its length is not a whole number of values');
      // Copied into an aligned array of its own: a view of the file's buffer may be misaligned.
      const out = kind === 'f64' ? new Float64Array(bytes.length / size) : new Int32Array(bytes.length / size);
      Buffer.from(out.buffer).set(bytes);
      return out;
    }
  }
}

/**
 * Checks that decoded columns have the shape {@link toColumns} writes for `count` leases; returns
 * the first column that does not, or null. The file's keyed MAC was checked before: this catches a
 * bella bug, not an attacker, and costs one pass over each column.
 */
export function columnsProblem(c: Map<string, unknown>, count: number): string | null {
  const items = (name: string, ok: (x: unknown) => boolean) => {
    const v = c.get(name);
    return Array.isArray(v) && v.every(ok);
  };
  const str = (x: unknown) => typeof x === 'string';
  const checks: Array<[string, () => boolean]> = [];
  for (const field of PACKED) {
    checks.push([
      field,
      () => {
        const v = c.get(field);
        if (typeof v === 'string') return v.length > 0 && v.length % count === 0;
        return Array.isArray(v) && v.length === count && v.every((x) => typeof x === 'string' && x.length > 0);
      },
    ]);
  }
  const dictItem: Record<DictField, (x: unknown) => boolean> = {
    project: str,
    environment: str,
    endReason: str,
    status: (x) => (LEASE_STATUSES as readonly unknown[]).includes(x),
    scope: (x) => Array.isArray(x) && x.length > 0 && x.every((k) => typeof k === 'string' && k.length > 0),
  };
  for (const field of DICTS) {
    checks.push([`${field}.d`, () => items(`${field}.d`, dictItem[field])]);
    checks.push([
      `${field}.v`,
      () => {
        const v = c.get(`${field}.v`);
        const size = (c.get(`${field}.d`) as unknown[]).length;
        const min = field === 'endReason' ? -1 : 0;
        return v instanceof Int32Array && v.length === count && v.every((i) => i >= min && i < size);
      },
    ]);
  }
  checks.push(['reason', () => items('reason', str) && (c.get('reason') as unknown[]).length === count]);
  for (const field of NUMBER_FIELDS) {
    checks.push([
      field,
      () => {
        const v = c.get(field);
        const min = NULLABLE_NUMBERS.has(field) ? -1 : 0;
        return v instanceof Float64Array && v.length === count && v.every((x) => Number.isSafeInteger(x) && x >= min);
      },
    ]);
  }
  checks.push(['extra', () => items('extra', (e) => Array.isArray(e) && Number.isInteger(e[0]))]);
  for (const [name, ok] of checks) if (!c.has(name) || !ok()) return name;
  return null;
}

/** Calls `add` with each lease of checked columns, in order; leases of one dictionary value share it. */
export function fromColumns(c: Map<string, unknown>, count: number, add: (lease: StoredLease) => void): void {
  const packed = (name: string) => {
    const v = c.get(name) as string | string[];
    if (Array.isArray(v)) return (i: number) => v[i]!;
    const w = v.length / count;
    return (i: number) => v.slice(i * w, (i + 1) * w);
  };
  const id = packed('id');
  const tokenHash = packed('tokenHash');
  const dict = <T>(name: DictField) => {
    const d = c.get(`${name}.d`) as T[];
    const v = c.get(`${name}.v`) as Int32Array;
    return (i: number): T | null => (v[i]! < 0 ? null : d[v[i]!]!);
  };
  const [project, environment, status, endReason] = (['project', 'environment', 'status', 'endReason'] as const).map(
    (f) => dict<string>(f),
  ) as Array<(i: number) => string>;
  const scope = dict<string[]>('scope') as (i: number) => string[];
  const n = Object.fromEntries(NUMBER_FIELDS.map((f) => [f, c.get(f) as Float64Array])) as Record<
    NumberField,
    Float64Array
  >;
  const nullable = (v: number) => (v < 0 ? null : v);
  // A float64 read back is a heap number in the object; small counters made int32 are held inline
  // (as JSON.parse holds them), saving ~60 bytes a lease.
  const small = (v: number) => (v <= 0x3fffffff ? v | 0 : v);
  const reason = c.get('reason') as string[];
  const extras = new Map(c.get('extra') as Extra[]);
  for (let i = 0; i < count; i++) {
    const lease: StoredLease = {
      id: id(i),
      project: project!(i),
      environment: environment!(i),
      scope: scope(i),
      reason: reason[i]!,
      issuedAt: n.issuedAt[i]!,
      expiresAt: n.expiresAt[i]!,
      ttlSeconds: small(n.ttlSeconds[i]!),
      status: status!(i) as LeaseStatus,
      renewals: small(n.renewals[i]!),
      renewedAt: nullable(n.renewedAt[i]!),
      lastUsedAt: nullable(n.lastUsedAt[i]!),
      endedAt: nullable(n.endedAt[i]!),
      endReason: endReason!(i),
      tokenHash: tokenHash(i),
      epoch: small(n.epoch[i]!),
      warnedFor: nullable(n.warnedFor[i]!),
      uses: small(n.uses[i]!),
    };
    const extra = extras.get(i);
    if (extra) Object.assign(lease, extra);
    add(lease);
  }
}
