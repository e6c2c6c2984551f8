import type { LeasePolicy, LeaseStatus, NotificationSettings } from '../api';

/** The current state schema version. Bump it and add a migration when the shape changes. */
export const SCHEMA_VERSION = 2;

/** A secret as stored: the value sealed with the environment's data key. */
export interface StoredSecret {
  sealed: string;
  updatedAt: number;
}

/** An environment as stored. */
export interface StoredEnvironment {
  slug: string;
  name: string;
  createdAt: number;
  policy: LeasePolicy | null;
  /** The data key sealed by the master wrap key. */
  dataKey: string;
  keyVersion: number;
  /** Bumped by expire-all: a token minted under an older epoch never passes again. */
  tokenEpoch: number;
  rotatedAt: number | null;
  secrets: Record<string, StoredSecret>;
}

/** A project as stored. */
export interface StoredProject {
  slug: string;
  name: string;
  createdAt: number;
  environments: Record<string, StoredEnvironment>;
}

/** A lease as stored. Times are epoch milliseconds. */
export interface StoredLease {
  id: string;
  project: string;
  environment: string;
  scope: string[];
  reason: string;
  issuedAt: number;
  expiresAt: number;
  status: LeaseStatus;
  renewals: number;
  /** When the last renewal set the current expiry; null until renewed. */
  renewedAt: number | null;
  lastUsedAt: number | null;
  endedAt: number | null;
  endReason: string | null;
  /** The ttl it was issued with, reused by a renewal when no ttl or policy says otherwise. */
  ttlSeconds: number;
  /** Keyed hash of the token's secret part. */
  tokenHash: string;
  epoch: number;
  /** The expiresAt a warning was sent for, so a renewal warns again. */
  warnedFor: number | null;
  /** Successful token reads. */
  uses: number;
}

/** Everything the daemon keeps in its state file. */
export interface State {
  version: number;
  /** The last journal entry this snapshot contains; later entries are replayed over it. */
  journal?: number;
  projects: Record<string, StoredProject>;
  /** Leases by id, in issue order (a Map: plain objects get slow to iterate at 100,000 keys). */
  leases: Map<string, StoredLease>;
  settings: { notifications: NotificationSettings };
}

/** A state for a new data directory. */
export function emptyState(): State {
  return {
    version: SCHEMA_VERSION,
    projects: {},
    leases: new Map(),
    settings: { notifications: { desktop: true, environments: {} } },
  };
}

/** Migrations from version N (index N - 1) to N + 1. */
export const migrations: Array<(state: Record<string, unknown>) => Record<string, unknown>> = [
  // 1 → 2: leases are written as an array (a 100,000-key object is slow to parse and to walk).
  (state) => ({ ...state, version: 2, leases: Object.values(state.leases as Record<string, unknown>) }),
];

/**
 * The own entry of a state record, never one inherited from Object.prototype: names such as
 * `constructor` or `toString` are valid slugs and keys and must not resolve to built-ins.
 */
export function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** The state as JSON: the lease map is written as an array of leases, in issue order. */
export function serializeState(state: State): string {
  return JSON.stringify({ ...state, leases: [...state.leases.values()] });
}
