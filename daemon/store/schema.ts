import { z } from 'zod';
import { LEASE_STATUSES, type LeasePolicy, type LeaseStatus, type NotificationSettings } from '../api';
import {
  CHANNEL_EVENTS,
  CHANNEL_KINDS,
  type ChannelEventType,
  type ChannelKind,
  type DeliveryAttempt,
  type OutboxItem,
} from '../api/channels';

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

/** Daemon-wide settings. */
export interface Settings {
  notifications: NotificationSettings;
  /** Absent until the listener was first configured. */
  listener?: ListenerSettings;
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
  settings: Settings;
}

/** The records of a state kept as flat maps by id, with the record kind that journals each. */
export const FLAT_RECORDS = { lease: 'leases', channel: 'channels', outbox: 'outbox', delivery: 'deliveries' } as const;
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

// Validation of every record read back from disk: an unknown status or a malformed record refuses
// to start instead of being trusted (an edited "revoked" must never read as anything else).
const Name = z.string().min(1).max(256);
const Millis = z.number().int().nonnegative();
const Policy = z.object({ ttlSeconds: z.number().int().positive(), warnBeforeSeconds: z.number().int().positive() });

const ProjectMeta = z.strictObject({ slug: Name, name: z.string().max(200), createdAt: Millis });
const EnvironmentMeta = z.strictObject({
  slug: Name,
  name: z.string().max(200),
  createdAt: Millis,
  policy: Policy.nullable(),
  dataKey: z.string().min(1),
  keyVersion: z.number().int().positive(),
  tokenEpoch: z.number().int().positive(),
  rotatedAt: Millis.nullable(),
});
const SecretRecord = z.strictObject({ sealed: z.string().min(1), updatedAt: Millis });
const LeaseRecord = z.strictObject({
  id: z.string().regex(/^[a-z0-9]{16}$/),
  project: Name,
  environment: Name,
  scope: z.array(z.string().min(1)).min(1),
  reason: z.string(),
  issuedAt: Millis,
  expiresAt: Millis,
  status: z.enum(LEASE_STATUSES),
  renewals: z.number().int().nonnegative(),
  renewedAt: Millis.nullable(),
  lastUsedAt: Millis.nullable(),
  endedAt: Millis.nullable(),
  endReason: z.string().nullable(),
  ttlSeconds: z.number().int().positive(),
  tokenHash: z.string().min(1),
  epoch: z.number().int().positive(),
  warnedFor: Millis.nullable(),
  uses: z.number().int().nonnegative(),
});
const ChannelRecord = z.strictObject({
  id: z.string().regex(/^ch_[A-Za-z0-9_-]{10,40}$/),
  kind: z.enum(CHANNEL_KINDS),
  name: z.string().max(200),
  sealedUrl: z.string().min(1),
  project: Name.optional(),
  environment: Name.optional(),
  events: z.array(z.enum(CHANNEL_EVENTS)).max(32),
  sealedSecret: z.string().min(1).optional(),
  previousSecret: z.strictObject({ sealed: z.string().min(1), until: Millis }).optional(),
  createdAt: Millis,
  disabled: z
    .strictObject({ at: Millis, reason: z.string().max(500) })
    .nullable()
    .optional(),
  allowPrivate: z.boolean().optional(),
  insecureHttp: z.boolean().optional(),
  anyHost: z.boolean().optional(),
});
const OutboxRecord = z.strictObject({
  id: z.string().regex(/^msg_[A-Za-z0-9_-]{10,40}$/),
  channelId: z.string().min(1),
  event: z.enum(CHANNEL_EVENTS),
  timestamp: Millis,
  data: z.looseObject({ project: z.string(), environment: z.string(), leaseIds: z.array(z.string()) }),
  attempts: z.number().int().nonnegative(),
  nextAttemptAt: Millis,
  status: z.enum(['pending', 'delivered', 'failed']),
  lastError: z.string().nullable(),
  lastStatus: z.number().int().nullable(),
});
const DeliveryRecord = z.strictObject({
  id: z.string().regex(/^att_[A-Za-z0-9_-]{10,40}$/),
  channelId: z.string().min(1),
  itemIds: z.array(z.string()).max(100),
  event: z.enum(CHANNEL_EVENTS),
  attempt: z.number().int().nonnegative(),
  at: Millis,
  durationMs: z.number().nonnegative(),
  outcome: z.enum(['delivered', 'retry', 'failed', 'disabled', 'dropped']),
  status: z.number().int().nullable(),
  error: z.string().nullable(),
  nextAttemptAt: Millis.nullable(),
});
const SettingsRecord = z.strictObject({
  notifications: z.strictObject({ desktop: z.boolean(), environments: z.record(z.string(), z.boolean()) }),
  listener: z
    .strictObject({
      enabled: z.boolean(),
      address: z.string().min(3).max(300),
      names: z.array(z.string().max(253)).max(32),
      allow: z.array(z.string().max(64)).max(64),
      publicUrl: z.string().max(2048).optional(),
      certificate: z.enum(['self-signed', 'own']).nullable(),
    })
    .optional(),
});

/** One record of state: written to the journal when it changes (null = deleted) and to snapshots. */
export const Change = z.discriminatedUnion('t', [
  z.strictObject({ t: z.literal('project'), p: Name, v: ProjectMeta.nullable() }),
  z.strictObject({ t: z.literal('env'), p: Name, e: Name, v: EnvironmentMeta.nullable() }),
  z.strictObject({ t: z.literal('secret'), p: Name, e: Name, k: Name, v: SecretRecord.nullable() }),
  z.strictObject({ t: z.literal('lease'), id: Name, v: LeaseRecord.nullable() }),
  z.strictObject({ t: z.literal('channel'), id: Name, v: ChannelRecord.nullable() }),
  z.strictObject({ t: z.literal('outbox'), id: Name, v: OutboxRecord.nullable() }),
  z.strictObject({ t: z.literal('delivery'), id: Name, v: DeliveryRecord.nullable() }),
  z.strictObject({ t: z.literal('settings'), v: SettingsRecord }),
]);
/** One state record change. */
export type Change = z.infer<typeof Change>;

/** Which records a transaction changed, so its commit writes exactly those. */
export class Touched {
  readonly projects = new Set<string>();
  readonly environments = new Map<string, [string, string]>();
  readonly secrets = new Map<string, [string, string, string]>();
  /** Flat records by kind: leases, channels, outbox items, deliveries. */
  readonly flat: { [K in FlatKind]: Set<string> } = {
    lease: new Set(),
    channel: new Set(),
    outbox: new Set(),
    delivery: new Set(),
  };
  settings = false;

  /** A project's own fields (name…) were set, or the project was created or deleted. */
  project(p: string): this {
    this.projects.add(p);
    return this;
  }

  /** An environment's own fields were set (policy, keys…), or it was created or deleted. */
  environment(p: string, e: string): this {
    this.environments.set(`${p}\0${e}`, [p, e]);
    return this;
  }

  /** A secret was set, replaced or deleted. */
  secret(p: string, e: string, k: string): this {
    this.secrets.set(`${p}\0${e}\0${k}`, [p, e, k]);
    return this;
  }

  /** A lease was issued or changed, or left the state. */
  lease(id: string): this {
    return this.record('lease', id);
  }

  /** A flat record (channel, outbox item, delivery) was added, changed or removed. */
  record(kind: FlatKind, id: string): this {
    this.flat[kind].add(id);
    return this;
  }

  /** The settings changed. */
  setting(): this {
    this.settings = true;
    return this;
  }

  /** Everything `other` touched. */
  merge(other: Touched): void {
    for (const p of other.projects) this.projects.add(p);
    for (const [k, v] of other.environments) this.environments.set(k, v);
    for (const [k, v] of other.secrets) this.secrets.set(k, v);
    for (const kind of Object.keys(this.flat) as FlatKind[]) for (const id of other.flat[kind]) this.flat[kind].add(id);
    this.settings ||= other.settings;
  }

  get empty(): boolean {
    return (
      !this.settings &&
      this.projects.size === 0 &&
      this.environments.size === 0 &&
      this.secrets.size === 0 &&
      Object.values(this.flat).every((ids) => ids.size === 0)
    );
  }
}

/** Marks a removed environment and every secret it held, so the commit deletes them all. */
export function touchEnvironmentRemoval(touched: Touched, p: string, env: StoredEnvironment): void {
  touched.environment(p, env.slug);
  for (const k of Object.keys(env.secrets)) touched.secret(p, env.slug, k);
}

function projectMeta(p: StoredProject): z.infer<typeof ProjectMeta> {
  return { slug: p.slug, name: p.name, createdAt: p.createdAt };
}

function environmentMeta(e: StoredEnvironment): z.infer<typeof EnvironmentMeta> {
  const { secrets: _secrets, ...meta } = e;
  return meta;
}

/** The current value of every touched record, parents before children. */
export function changesOf(state: State, touched: Touched): Change[] {
  const out: Change[] = [];
  for (const p of touched.projects) {
    const project = own(state.projects, p);
    out.push({ t: 'project', p, v: project ? projectMeta(project) : null });
  }
  for (const [p, e] of touched.environments.values()) {
    const env = environment(state, p, e);
    out.push({ t: 'env', p, e, v: env ? environmentMeta(env) : null });
  }
  for (const [p, e, k] of touched.secrets.values()) {
    const env = environment(state, p, e);
    const secret = env && own(env.secrets, k);
    out.push({ t: 'secret', p, e, k, v: secret ? { ...secret } : null });
  }
  for (const kind of Object.keys(FLAT_RECORDS) as FlatKind[]) {
    const records = state[FLAT_RECORDS[kind]] as Map<string, unknown>;
    for (const id of touched.flat[kind]) out.push({ t: kind, id, v: records.get(id) ?? null } as Change);
  }
  if (touched.settings) out.push({ t: 'settings', v: state.settings });
  return out;
}

/** Every record of a state, for a snapshot. */
export function* recordsOf(state: State): Generator<Change> {
  yield { t: 'settings', v: state.settings };
  for (const project of Object.values(state.projects)) {
    yield { t: 'project', p: project.slug, v: projectMeta(project) };
    for (const env of Object.values(project.environments)) {
      yield { t: 'env', p: project.slug, e: env.slug, v: environmentMeta(env) };
      for (const [k, secret] of Object.entries(env.secrets)) {
        yield { t: 'secret', p: project.slug, e: env.slug, k, v: secret };
      }
    }
  }
  for (const kind of Object.keys(FLAT_RECORDS) as FlatKind[]) {
    for (const [id, v] of state[FLAT_RECORDS[kind]] as Map<string, unknown>) yield { t: kind, id, v } as Change;
  }
}

function environment(state: State, p: string, e: string): StoredEnvironment | undefined {
  const project = own(state.projects, p);
  return project && own(project.environments, e);
}

/**
 * Applies one validated record to a state. Returns a reason when the record cannot apply (a
 * secret of an environment that does not exist), which is damage in a file bella wrote itself.
 */
export function applyChange(state: State, change: Change): string | null {
  switch (change.t) {
    case 'settings':
      state.settings = change.v;
      return null;
    case 'project': {
      if (change.v === null) {
        delete state.projects[change.p];
        return null;
      }
      const existing = own(state.projects, change.p);
      if (existing) Object.assign(existing, change.v);
      else state.projects[change.p] = { ...change.v, environments: {} };
      return null;
    }
    case 'env': {
      const project = own(state.projects, change.p);
      if (!project)
        return change.v === null ? null : `environment ${change.p}/${change.e} of a project that does not exist`;
      if (change.v === null) {
        delete project.environments[change.e];
        return null;
      }
      const existing = own(project.environments, change.e);
      if (existing) Object.assign(existing, change.v);
      else project.environments[change.e] = { ...change.v, secrets: {} };
      return null;
    }
    case 'secret': {
      const env = environment(state, change.p, change.e);
      if (!env) return change.v === null ? null : `secret of ${change.p}/${change.e}, which does not exist`;
      if (change.v === null) delete env.secrets[change.k];
      else env.secrets[change.k] = change.v;
      return null;
    }
    case 'lease':
    case 'channel':
    case 'outbox':
    case 'delivery': {
      const records = state[FLAT_RECORDS[change.t]] as Map<string, unknown>;
      if (change.v === null) records.delete(change.id);
      else if (change.v.id !== change.id) return `${change.t} record ${change.id} holds ${change.v.id}`;
      else records.set(change.id, change.t === 'lease' ? sharingStrings(change.v) : change.v);
      return null;
    }
  }
}

/** Parses and validates one record payload; returns the reason it is not a valid record. */
export function parseChange(json: unknown): { change: Change } | { error: string } {
  const parsed = Change.safeParse(json);
  if (parsed.success) return { change: parsed.data };
  const issue = parsed.error.issues[0]!;
  return { error: `${issue.path.join('.') || 'record'}: ${issue.message}` };
}

const sharedStrings = new Map<string, string>();
const sharedScopes = new Map<string, string[]>();
/** Distinct scopes shared at most; leases past it keep their own (a scope per lease gains nothing). */
const MAX_SHARED_SCOPES = 10_000;

function shared(text: string): string {
  const known = sharedStrings.get(text);
  if (known !== undefined) return known;
  sharedStrings.set(text, text);
  return text;
}

/**
 * A lease read from disk, holding one copy of each project, environment, status and scope shared
 * by all leases alike (a million leases of one environment otherwise hold a million copies of
 * each). Scopes are never changed in place, so leases with equal scopes share one array.
 */
function sharingStrings(lease: StoredLease): StoredLease {
  lease.project = shared(lease.project);
  lease.environment = shared(lease.environment);
  lease.status = shared(lease.status) as LeaseStatus;
  const scopeKey = lease.scope.join('\n');
  const scope = sharedScopes.get(scopeKey);
  if (scope) lease.scope = scope;
  else if (sharedScopes.size < MAX_SHARED_SCOPES) sharedScopes.set(scopeKey, lease.scope);
  return lease;
}
