import { LEASE_STATUSES, type LeaseStatus } from '../api';
import type { LeaseDatabase, StoredLease } from './schema';

// Active leases as columns (one JSON array per field) instead of one JSON object per lease: the
// lease table's snapshot files hold these. Reading a column is one JSON.parse of an array of
// numbers or strings; repeated strings (project, environment, status, scope, end reason) are
// dictionary-encoded, and ids and token hashes are one string each, cut into equal slices.

/** Strings of one width joined into one (`w` chars each), or the strings themselves when widths differ. */
type Packed = { w: number; s: string } | string[];
/** A dictionary: the distinct values, and per lease the index of its value (-1: null). */
interface Dict<T> {
  d: T[];
  v: number[];
}
/** The fields a lease has only sometimes (`by`, `database`), by lease index. */
type Extra = [number, { by?: string; database?: LeaseDatabase }];

/** The columns of one lease table file. */
export interface LeaseColumns {
  id: Packed;
  tokenHash: Packed;
  project: Dict<string>;
  environment: Dict<string>;
  status: Dict<string>;
  scope: Dict<string[]>;
  endReason: Dict<string>;
  reason: string[];
  issuedAt: number[];
  expiresAt: number[];
  ttlSeconds: number[];
  renewals: number[];
  renewedAt: Array<number | null>;
  lastUsedAt: Array<number | null>;
  endedAt: Array<number | null>;
  epoch: number[];
  warnedFor: Array<number | null>;
  uses: number[];
  extra: Extra[];
}

/** The column names, in the order they are written. */
export const COLUMN_NAMES: ReadonlyArray<keyof LeaseColumns> = [
  'id',
  'tokenHash',
  'project',
  'environment',
  'status',
  'scope',
  'endReason',
  'reason',
  'issuedAt',
  'expiresAt',
  'ttlSeconds',
  'renewals',
  'renewedAt',
  'lastUsedAt',
  'endedAt',
  'epoch',
  'warnedFor',
  'uses',
  'extra',
];

function pack(values: string[]): Packed {
  const w = values[0]?.length ?? 0;
  return values.every((v) => v.length === w) ? { w, s: values.join('') } : values;
}

function dict<T>(values: Array<T | null>, keyOf: (v: T) => string): Dict<T> {
  const index = new Map<string, number>();
  const d: T[] = [];
  const v = values.map((value) => {
    if (value === null) return -1;
    const key = keyOf(value);
    let i = index.get(key);
    if (i === undefined) {
      i = d.length;
      index.set(key, i);
      d.push(value);
    }
    return i;
  });
  return { d, v };
}

/** The columns of `leases`, in their order. */
export function toColumns(leases: StoredLease[]): LeaseColumns {
  const extra: Extra[] = [];
  leases.forEach((l, i) => {
    if (l.by !== undefined || l.database !== undefined) {
      extra.push([i, { ...(l.by !== undefined ? { by: l.by } : {}), ...(l.database ? { database: l.database } : {}) }]);
    }
  });
  const text = (s: string) => s;
  return {
    id: pack(leases.map((l) => l.id)),
    tokenHash: pack(leases.map((l) => l.tokenHash)),
    project: dict(
      leases.map((l) => l.project),
      text,
    ),
    environment: dict(
      leases.map((l) => l.environment),
      text,
    ),
    status: dict(
      leases.map((l) => l.status),
      text,
    ),
    scope: dict(
      leases.map((l) => l.scope),
      (s) => JSON.stringify(s),
    ),
    endReason: dict(
      leases.map((l) => l.endReason),
      text,
    ),
    reason: leases.map((l) => l.reason),
    issuedAt: leases.map((l) => l.issuedAt),
    expiresAt: leases.map((l) => l.expiresAt),
    ttlSeconds: leases.map((l) => l.ttlSeconds),
    renewals: leases.map((l) => l.renewals),
    renewedAt: leases.map((l) => l.renewedAt),
    lastUsedAt: leases.map((l) => l.lastUsedAt),
    endedAt: leases.map((l) => l.endedAt),
    epoch: leases.map((l) => l.epoch),
    warnedFor: leases.map((l) => l.warnedFor),
    uses: leases.map((l) => l.uses),
    extra,
  };
}

/**
 * Checks that columns read back have the shape {@link toColumns} writes for `count` leases; returns
 * the name of the first column that does not and why, or null. The file's keyed MAC was checked
 * before: this catches a bella bug, not an attacker, and costs one pass over each column.
 */
export function columnsProblem(c: Partial<Record<keyof LeaseColumns, unknown>>, count: number): string | null {
  const isArray = (v: unknown, check: (x: unknown) => boolean): boolean =>
    Array.isArray(v) && v.length === count && v.every(check);
  const num = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  const nullableNum = (x: unknown) => x === null || num(x);
  const packed = (v: unknown) => {
    if (Array.isArray(v)) return isArray(v, (x) => typeof x === 'string' && x.length > 0);
    const p = v as { w?: unknown; s?: unknown } | null;
    return (
      typeof p === 'object' &&
      p !== null &&
      typeof p.w === 'number' &&
      p.w > 0 &&
      typeof p.s === 'string' &&
      p.s.length === p.w * count
    );
  };
  const dictOf = (v: unknown, item: (x: unknown) => boolean, nullable: boolean) => {
    const d = v as { d?: unknown; v?: unknown } | null;
    if (typeof d !== 'object' || d === null || !Array.isArray(d.d) || !d.d.every(item)) return false;
    const size = d.d.length;
    return isArray(d.v, (i) => Number.isInteger(i) && (i as number) < size && (i as number) >= (nullable ? -1 : 0));
  };
  const str = (x: unknown) => typeof x === 'string';
  const scope = (x: unknown) => Array.isArray(x) && x.length > 0 && x.every((k) => typeof k === 'string' && k);
  const checks: Array<[keyof LeaseColumns, () => boolean]> = [
    ['id', () => packed(c.id)],
    ['tokenHash', () => packed(c.tokenHash)],
    ['project', () => dictOf(c.project, str, false)],
    ['environment', () => dictOf(c.environment, str, false)],
    ['status', () => dictOf(c.status, (x) => (LEASE_STATUSES as readonly unknown[]).includes(x), false)],
    ['scope', () => dictOf(c.scope, scope, false)],
    ['endReason', () => dictOf(c.endReason, str, true)],
    ['reason', () => isArray(c.reason, str)],
    ['extra', () => Array.isArray(c.extra) && c.extra.every((e) => Array.isArray(e) && Number.isInteger(e[0]))],
  ];
  for (const name of ['issuedAt', 'expiresAt', 'ttlSeconds', 'renewals', 'epoch', 'uses'] as const) {
    checks.push([name, () => isArray(c[name], num)]);
  }
  for (const name of ['renewedAt', 'lastUsedAt', 'endedAt', 'warnedFor'] as const) {
    checks.push([name, () => isArray(c[name], nullableNum)]);
  }
  for (const [name, ok] of checks) if (!ok()) return `its column ${name} is malformed`;
  return null;
}

function unpack(p: Packed, i: number): string {
  return Array.isArray(p) ? p[i]! : p.s.slice(i * p.w, (i + 1) * p.w);
}

/** Calls `add` with each lease of checked columns, in order; leases of one dictionary value share it. */
export function fromColumns(c: LeaseColumns, count: number, add: (lease: StoredLease) => void): void {
  const extras = new Map(c.extra);
  const endReason = (i: number) => (i < 0 ? null : c.endReason.d[i]!);
  for (let i = 0; i < count; i++) {
    const lease: StoredLease = {
      id: unpack(c.id, i),
      project: c.project.d[c.project.v[i]!]!,
      environment: c.environment.d[c.environment.v[i]!]!,
      scope: c.scope.d[c.scope.v[i]!]!,
      reason: c.reason[i]!,
      issuedAt: c.issuedAt[i]!,
      expiresAt: c.expiresAt[i]!,
      ttlSeconds: c.ttlSeconds[i]!,
      status: c.status.d[c.status.v[i]!] as LeaseStatus,
      renewals: c.renewals[i]!,
      renewedAt: c.renewedAt[i]!,
      lastUsedAt: c.lastUsedAt[i]!,
      endedAt: c.endedAt[i]!,
      endReason: endReason(c.endReason.v[i]!),
      tokenHash: unpack(c.tokenHash, i),
      epoch: c.epoch[i]!,
      warnedFor: c.warnedFor[i]!,
      uses: c.uses[i]!,
    };
    const extra = extras.get(i);
    if (extra) Object.assign(lease, extra);
    add(lease);
  }
}
