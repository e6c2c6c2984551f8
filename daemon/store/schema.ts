import type { LeasePolicy, LeaseStatus, NotificationSettings } from '../api';
import type { ChannelEventType, ChannelKind, DeliveryAttempt, OutboxItem } from '../api/channels';
import type { CiTrust } from '../api/ci';
import type { SecretChange, SecretEnd } from '../api/history';
import type { Grant, TeamRole } from '../api/team';
import type { RequestStatus } from '../api/requests';
import { LeaseTable } from './lease-memory';

/**
 * The current state schema version. Bump it and teach `legacy.ts` the old shape when it changes.
 * 4: the same records as 3, with the leases in the lease table's own files (`lease-table.ts`);
 * bumped so that an older bella refuses such a snapshot instead of starting without its leases.
 */
export const SCHEMA_VERSION = 4;

/** A secret as stored: the value sealed with the environment's data key. */
export interface StoredSecret {
  sealed: string;
  updatedAt: number;
  /** Its number in the secret's history; absent (= 1) for values stored before history existed. */
  version?: number;
  /** What set it; absent (= set) before history existed. */
  change?: SecretChange;
  /** For a rollback or a restore: the version whose value it brought back. */
  from?: number;
  /** The database whose rotation set this value (`bella secrets rotate`): a rollback is refused. */
  rotatedByDatabase?: string;
  /** The Postgres login user whose password it holds (with rotatedByDatabase). */
  rotatedUser?: string;
  /** Committed before ALTER ROLE, cleared once the database took the password: retried at start. */
  rotationPending?: true;
}

/**
 * An earlier value of a secret, a record of its own (`<project>/<environment>/<key>@<version>`),
 * sealed with the environment's data key and the same associated data as the live value.
 */
export interface StoredVersion {
  id: string;
  project: string;
  environment: string;
  key: string;
  version: number;
  sealed: string;
  /** When it was set and by what. */
  at: number;
  change: SecretChange;
  from?: number;
  rotatedByDatabase?: string;
  rotatedUser?: string;
  /** When it stopped being the live value and by what. */
  endedAt: number;
  endedBy: SecretEnd;
}

/** A deleted secret (`<project>/<environment>/<key>`): its value is the version `version` of its history. */
export interface StoredTrash {
  id: string;
  project: string;
  environment: string;
  key: string;
  version: number;
  deletedAt: number;
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
  /** The team member (id) whose device issued it; absent for the owner's and CI's leases. */
  by?: string;
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

/** A CI JWT already traded, kept until the JWT could no longer pass anyway (it is never stored itself). */
export interface StoredCiReplay {
  /** SHA-256 of the JWT's `iss` and `jti` (or of the whole JWT without a `jti`), hex. */
  id: string;
  /** Epoch ms after which the JWT is refused as expired or too old: the record can go. */
  until: number;
}

/** A person of the team (issue 17). Removed people are kept, so their leases and audit still name them. */
export interface StoredMember {
  /** `mem_` + random; what leases (`by`) and devices point at. */
  id: string;
  name: string;
  role: TeamRole;
  grants: Grant[];
  createdAt: number;
  removedAt: number | null;
}

/** An enrolled device: a P-256 public key, known by the SHA-256 of its SubjectPublicKeyInfo. */
export interface StoredDevice {
  /** `sha256:` + 64 hex digits of the SPKI's SHA-256. */
  id: string;
  memberId: string;
  enrolledAt: number;
  lastSeenAt: number | null;
  /** Set when its person was removed: the device is refused from then on. */
  removedAt: number | null;
}

/** An invite that can still be redeemed; removed from the state when redeemed. */
export interface StoredInvite {
  id: string;
  name: string;
  role: TeamRole;
  grants: Grant[];
  /** SHA-256 (hex) of the code's secret: the state alone never yields a usable code. */
  secretHash: string;
  createdAt: number;
  expiresAt: number;
}

/** An access request (issue 17): a flat record of its own, kept after its decision for the history. */
export interface StoredAccessRequest {
  /** `req_` + 16 random characters. */
  id: string;
  /** The member who asked, and the audit actor she asked as. */
  memberId: string;
  requester: string;
  project: string;
  environment: string;
  scope: string[];
  /** `DB:ROLE` asked for (issue 19): the approved lease gets a login role of its own. */
  db?: string;
  ttlSeconds: number | null;
  reason: string;
  createdAt: number;
  /** The end of its approval window. */
  windowEndsAt: number;
  status: RequestStatus;
  decidedAt: number | null;
  decidedBy: string | null;
  decision: string | null;
  leaseId: string | null;
  /** The approved lease's token, sealed with the wrap key, until its requester fetches it (then dropped). */
  sealedToken: string | null;
  breakGlass: boolean;
  reviewedAt: number | null;
  reviewedBy: string | null;
}

/** Everything the daemon keeps as its state. */
export interface State {
  projects: Record<string, StoredProject>;
  /**
   * Leases by id, in issue order: a compact table (lease-memory.ts) with a Map's surface. `get`
   * hands out a copy: a changed lease goes back through `set`.
   */
  leases: LeaseTable;
  /** Notification channels, in the order they were added. */
  channels: Map<string, StoredChannel>;
  /** Outbox items, in commit order (per channel, the order its events are delivered in). */
  outbox: Map<string, StoredOutboxItem>;
  /** The delivery log, oldest first. */
  deliveries: Map<string, StoredDelivery>;
  /** CI JWTs already traded, by replay key. */
  ciReplays: Map<string, StoredCiReplay>;
  /** Earlier values of secrets, by `<project>/<environment>/<key>@<version>`. */
  versions: Map<string, StoredVersion>;
  /** Deleted secrets, by `<project>/<environment>/<key>`. */
  trash: Map<string, StoredTrash>;
  /** Databases by name. */
  databases: Map<string, StoredDatabase>;
  /** Login roles not dropped yet, by Postgres role name. */
  dbLogins: Map<string, StoredDbLogin>;
  settings: Settings;
  /** Team members by id, in the order they joined. */
  members: Map<string, StoredMember>;
  /** Enrolled devices by fingerprint. */
  devices: Map<string, StoredDevice>;
  /** Open invites by id. */
  invites: Map<string, StoredInvite>;
  /** Access requests by id, in the order they were made. */
  accessRequests: Map<string, StoredAccessRequest>;
}

/** The records of a state kept as flat maps by id, with the record kind that journals each. */
export const FLAT_RECORDS = {
  lease: 'leases',
  channel: 'channels',
  outbox: 'outbox',
  delivery: 'deliveries',
  ciReplay: 'ciReplays',
  version: 'versions',
  trash: 'trash',
  member: 'members',
  device: 'devices',
  invite: 'invites',
  database: 'databases',
  dblogin: 'dbLogins',
  accessRequest: 'accessRequests',
} as const;
/** A kind of flat record. */
export type FlatKind = keyof typeof FLAT_RECORDS;

/** A state for a new data directory. */
export function emptyState(): State {
  return {
    projects: {},
    leases: new LeaseTable(),
    channels: new Map(),
    outbox: new Map(),
    deliveries: new Map(),
    ciReplays: new Map(),
    versions: new Map(),
    trash: new Map(),
    members: new Map(),
    devices: new Map(),
    invites: new Map(),
    databases: new Map(),
    dbLogins: new Map(),
    accessRequests: new Map(),
    settings: { notifications: { desktop: true, environments: {} } },
  };
}

/** The record id of a secret's trash entry, and the stem of its versions' ids. */
export function secretId(project: string, environment: string, key: string): string {
  return `${project}/${environment}/${key}`;
}

/** The record id of one version of a secret. */
export function versionId(project: string, environment: string, key: string, version: number): string {
  return `${secretId(project, environment, key)}@${version}`;
}

/**
 * The own entry of a state record, never one inherited from Object.prototype: names such as
 * `constructor` or `toString` are valid slugs and keys and must not resolve to built-ins.
 */
export function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
