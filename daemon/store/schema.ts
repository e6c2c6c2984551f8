import type { LeasePolicy, LeaseStatus, NotificationSettings } from '../api';
import type { ChannelEventType, ChannelKind, DeliveryAttempt, OutboxItem } from '../api/channels';
import type { CiTrust } from '../api/ci';

/** The current state schema version. Bump it and teach `legacy.ts` the old shape when it changes. */
export const SCHEMA_VERSION = 3;

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
  /** `--db DB:ROLE`: its own login role; the URL sealed with the environment's data key. */
  database?: LeaseDatabase;
}

/** A lease's database login role, as stored with the lease. */
export interface LeaseDatabase {
  name: string;
  role: string;
  /** The Postgres login role (`bella_…`). */
  user: string;
  /** The key the token reads it under, e.g. `PG_PROD_URL`. */
  key: string;
  /** The full connection URL, sealed with the environment's data key ({@link databaseUrlAad}). */
  sealedUrl: string;
}

/** A database bella creates login roles in (issue 19); its admin URL sealed like a secret. */
export interface StoredDatabase {
  /** Its name (`pg-prod`). */
  id: string;
  project: string;
  environment: string;
  /** The admin URL, sealed with the environment's data key. */
  sealedUrl: string;
  /** `HOST:PORT/DBNAME`, for lists (no credential). */
  target: string;
  adminUser: string;
  roles: Array<{ name: string; memberOf: string[] }>;
  createdAt: number;
}

/**
 * One login role bella made or is about to make: the durable "drop this role" job. Written in the
 * same commit as its lease, before CREATE ROLE; removed once the role is dropped (or given up).
 */
export interface StoredDbLogin {
  /** The Postgres role name (`bella_…`). */
  id: string;
  database: string;
  role: string;
  leaseId: string;
  phase: 'creating' | 'live' | 'dropping';
  attempts: number;
  lastError: string | null;
  /** When the next drop attempt is due (ms), while dropping. */
  nextAttemptAt: number | null;
  createdAt: number;
}

/** The opt-in TLS listener, as configured (its certificate and key are files of the data dir). */
export interface ListenerSettings {
  enabled: boolean;
  /** `HOST:PORT`. */
  address: string;
  /** Extra names for a generated certificate (`--name`). */
  names: string[];
  /** Allowed source CIDRs; empty allows any. */
  allow: string[];
  /** `--public-url`: what holders use (a DNS name, a port forward); absent: the daemon chooses. */
  publicUrl?: string;
  /** Where the certificate came from; null before the first enable. */
  certificate: 'self-signed' | 'own' | null;
}

/** The listener before it was ever enabled. */
export const DEFAULT_LISTENER: ListenerSettings = {
  enabled: false,
  address: '0.0.0.0:7443',
  names: [],
  allow: [],
  certificate: null,
};

/** A CI trust as stored: an OIDC issuer + audience + claim rules -> scope and ttl (no credential). */
export interface StoredCiTrust extends Omit<CiTrust, 'issuerCa' | 'createdAt'> {
  /** `--issuer-ca`: the PEM a self-hosted issuer is checked against instead of the system's CAs. */
  issuerCaPem?: string;
  createdAt: number;
}

/** Daemon-wide settings. */
export interface Settings {
  notifications: NotificationSettings;
  /** Absent until the listener was first configured. */
  listener?: ListenerSettings;
  /** CI trusts, by name order; absent until the first one. */
  ciTrusts?: StoredCiTrust[];
  /** JWTs already traded (SHA-256 of the JWT, hex) -> their `exp` in ms; kept until then. */
  ciUsed?: Record<string, number>;
}

/** A notification channel as stored: its URL and signing secrets sealed like secret values. */
export interface StoredChannel {
  id: string;
  kind: ChannelKind;
  name: string;
  /** The URL, sealed (for Slack and Discord the URL itself is the credential). */
  sealedUrl: string;
  project?: string;
  environment?: string;
  events: ChannelEventType[];
  /** Webhooks: the signing secret, sealed. */
  sealedSecret?: string;
  /** After a rotation, the old secret (sealed) still signs until `until`. */
  previousSecret?: { sealed: string; until: number };
  createdAt: number;
  disabled?: { at: number; reason: string } | null;
  /** What `add` allowed: loopback/private addresses, plain http://, another Slack/Discord host. */
  allowPrivate?: boolean;
  insecureHttp?: boolean;
  anyHost?: boolean;
}

/** One delivery of one event to one channel (the durable outbox); delivered ones leave the state. */
export type StoredOutboxItem = OutboxItem;

/** One entry of the delivery log; the newest are kept. */
export type StoredDelivery = DeliveryAttempt;

/** Everything the daemon keeps as its state. */
export interface State {
  projects: Record<string, StoredProject>;
  /** Leases by id, in issue order (a Map: plain objects get slow to iterate at 100,000 keys). */
  leases: Map<string, StoredLease>;
  /** Notification channels, in the order they were added. */
  channels: Map<string, StoredChannel>;
  /** Outbox items, in commit order (per channel, the order its events are delivered in). */
  outbox: Map<string, StoredOutboxItem>;
  /** The delivery log, oldest first. */
  deliveries: Map<string, StoredDelivery>;
  /** Databases by name. */
  databases: Map<string, StoredDatabase>;
  /** Login roles not dropped yet, by Postgres role name. */
  dbLogins: Map<string, StoredDbLogin>;
  settings: Settings;
}

/** The records of a state kept as flat maps by id, with the record kind that journals each. */
export const FLAT_RECORDS = {
  lease: 'leases',
  channel: 'channels',
  outbox: 'outbox',
  delivery: 'deliveries',
  database: 'databases',
  dblogin: 'dbLogins',
} as const;
/** A kind of flat record. */
export type FlatKind = keyof typeof FLAT_RECORDS;

/** A state for a new data directory. */
export function emptyState(): State {
  return {
    projects: {},
    leases: new Map(),
    channels: new Map(),
    outbox: new Map(),
    deliveries: new Map(),
    databases: new Map(),
    dbLogins: new Map(),
    settings: { notifications: { desktop: true, environments: {} } },
  };
}

/**
 * The own entry of a state record, never one inherited from Object.prototype: names such as
 * `constructor` or `toString` are valid slugs and keys and must not resolve to built-ins.
 */
export function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
