import * as z from 'zod';
import { LEASE_STATUSES } from '../api';
import { CHANNEL_EVENTS, CHANNEL_KINDS } from '../api/channels';
import { SECRET_CHANGES, SECRET_ENDS } from '../api/history';
import { secretId, versionId } from './schema';
import { GRANT_KINDS, INVITE_ID, TEAM_ROLES } from '../api/team';
import { REQUEST_ID, REQUEST_STATUSES } from '../api/requests';
import { DatabaseRef } from '../api/database-inputs';
import { once } from '../api/schemas';

// Validation of every record read back from disk: an unknown status or a malformed record refuses
// to start instead of being trusted (an edited "revoked" must never read as anything else).
const Name = once(() => z.string().min(1).max(256));
const Millis = once(() => z.number().int().nonnegative());
const Policy = () =>
  z.object({
    ttlSeconds: z.number().int().positive(),
    warnBeforeSeconds: z.number().int().positive(),
    breakGlassSeconds: z.number().int().positive().optional(),
  });

const ProjectMeta = () => z.strictObject({ slug: Name(), name: z.string().max(200), createdAt: Millis() });
const EnvironmentMeta = () =>
  z.strictObject({
    slug: Name(),
    name: z.string().max(200),
    createdAt: Millis(),
    policy: Policy().nullable(),
    dataKey: z.string().min(1),
    keyVersion: z.number().int().positive(),
    tokenEpoch: z.number().int().positive(),
    rotatedAt: Millis().nullable(),
  });
const Version = once(() => z.number().int().positive());
const SecretRecord = () =>
  z.strictObject({
    sealed: z.string().min(1),
    updatedAt: Millis(),
    version: Version().optional(),
    change: z.enum(SECRET_CHANGES).optional(),
    from: Version().optional(),
    rotatedByDatabase: Name().optional(),
    rotatedUser: Name().optional(),
    rotationPending: z.literal(true).optional(),
  });
// A version or trash record names its secret twice (id and fields): both must agree.
const VersionRecord = () =>
  z
    .strictObject({
      id: z.string().min(1).max(400),
      project: Name(),
      environment: Name(),
      key: Name(),
      version: Version(),
      sealed: z.string().min(1),
      at: Millis(),
      change: z.enum(SECRET_CHANGES),
      from: Version().optional(),
      rotatedByDatabase: Name().optional(),
      rotatedUser: Name().optional(),
      endedAt: Millis(),
      endedBy: z.enum(SECRET_ENDS),
    })
    .refine((v) => v.id === versionId(v.project, v.environment, v.key, v.version), 'id does not match the version');
const TrashRecord = () =>
  z
    .strictObject({
      id: z.string().min(1).max(400),
      project: Name(),
      environment: Name(),
      key: Name(),
      version: Version(),
      deletedAt: Millis(),
    })
    .refine((v) => v.id === secretId(v.project, v.environment, v.key), 'id does not match the secret');
const LeaseRecord = () =>
  z.strictObject({
    id: z.string().regex(/^[a-z0-9]{16}$/),
    project: Name(),
    environment: Name(),
    scope: z.array(z.string().min(1)).min(1),
    reason: z.string(),
    issuedAt: Millis(),
    expiresAt: Millis(),
    status: z.enum(LEASE_STATUSES),
    renewals: z.number().int().nonnegative(),
    renewedAt: Millis().nullable(),
    lastUsedAt: Millis().nullable(),
    endedAt: Millis().nullable(),
    endReason: z.string().nullable(),
    ttlSeconds: z.number().int().positive(),
    tokenHash: z.string().min(1),
    epoch: z.number().int().positive(),
    warnedFor: Millis().nullable(),
    uses: z.number().int().nonnegative(),
    by: z
      .string()
      .regex(/^mem_[A-Za-z0-9_-]{16}$/)
      .optional(),
    database: z
      .strictObject({ name: Name(), role: Name(), user: Name(), key: Name(), sealedUrl: z.string().min(1) })
      .optional(),
  });
const GrantRecord = () => z.strictObject({ project: Name(), environment: Name(), access: z.enum(GRANT_KINDS) });
const MemberName = () => z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/);
const MemberRecord = () =>
  z.strictObject({
    id: z.string().regex(/^mem_[A-Za-z0-9_-]{16}$/),
    name: MemberName(),
    role: z.enum(TEAM_ROLES),
    grants: z.array(GrantRecord()).max(1000),
    createdAt: Millis(),
    removedAt: Millis().nullable(),
  });
const DeviceRecord = () =>
  z.strictObject({
    id: z.string().regex(/^sha256:[0-9a-f]{64}$/),
    memberId: z.string().regex(/^mem_[A-Za-z0-9_-]{16}$/),
    enrolledAt: Millis(),
    lastSeenAt: Millis().nullable(),
    removedAt: Millis().nullable(),
  });
const InviteRecord = () =>
  z.strictObject({
    id: z.string().regex(INVITE_ID),
    name: MemberName(),
    role: z.enum(TEAM_ROLES),
    grants: z.array(GrantRecord()).max(1000),
    secretHash: z.string().regex(/^[0-9a-f]{64}$/),
    createdAt: Millis(),
    expiresAt: Millis(),
  });
const DatabaseRecord = () =>
  z.strictObject({
    id: Name(),
    project: Name(),
    environment: Name(),
    sealedUrl: z.string().min(1),
    target: z.string().max(1024),
    adminUser: z.string().max(256),
    roles: z.array(z.strictObject({ name: Name(), memberOf: z.array(Name()).min(1).max(20) })).max(1000),
    createdAt: Millis(),
  });
const DbLoginRecord = () =>
  z.strictObject({
    id: z.string().regex(/^bella_[a-z0-9_]{1,57}$/),
    database: Name(),
    role: Name(),
    leaseId: z.string().regex(/^[a-z0-9]{16}$/),
    phase: z.enum(['creating', 'live', 'dropping']),
    attempts: z.number().int().nonnegative(),
    lastError: z.string().max(2000).nullable(),
    nextAttemptAt: Millis().nullable(),
    createdAt: Millis(),
  });
const AccessRequestRecord = () =>
  z.strictObject({
    id: z.string().regex(REQUEST_ID),
    memberId: z.string().regex(/^mem_[A-Za-z0-9_-]{16}$/),
    requester: z.string().min(1).max(400),
    project: Name(),
    environment: Name(),
    scope: z.array(z.string().min(1)).max(200),
    db: DatabaseRef().optional(),
    ttlSeconds: z.number().int().positive().nullable(),
    reason: z.string().max(1000),
    createdAt: Millis(),
    windowEndsAt: Millis(),
    status: z.enum(REQUEST_STATUSES),
    decidedAt: Millis().nullable(),
    decidedBy: z.string().max(400).nullable(),
    decision: z.string().max(1000).nullable(),
    leaseId: Name().nullable(),
    sealedToken: z.string().min(1).nullable(),
    breakGlass: z.boolean(),
    reviewedAt: Millis().nullable(),
    reviewedBy: z.string().max(400).nullable(),
  });
const ChannelRecord = () =>
  z.strictObject({
    id: z.string().regex(/^ch_[A-Za-z0-9_-]{10,40}$/),
    kind: z.enum(CHANNEL_KINDS),
    name: z.string().max(200),
    sealedUrl: z.string().min(1),
    project: Name().optional(),
    environment: Name().optional(),
    events: z.array(z.enum(CHANNEL_EVENTS)).max(32),
    sealedSecret: z.string().min(1).optional(),
    previousSecret: z.strictObject({ sealed: z.string().min(1), until: Millis() }).optional(),
    createdAt: Millis(),
    disabled: z
      .strictObject({ at: Millis(), reason: z.string().max(500) })
      .nullable()
      .optional(),
    allowPrivate: z.boolean().optional(),
    insecureHttp: z.boolean().optional(),
    anyHost: z.boolean().optional(),
  });
const OutboxRecord = () =>
  z.strictObject({
    id: z.string().regex(/^msg_[A-Za-z0-9_-]{10,40}$/),
    channelId: z.string().min(1),
    event: z.enum(CHANNEL_EVENTS),
    timestamp: Millis(),
    data: z.looseObject({ project: z.string(), environment: z.string(), leaseIds: z.array(z.string()) }),
    attempts: z.number().int().nonnegative(),
    nextAttemptAt: Millis(),
    status: z.enum(['pending', 'delivered', 'failed']),
    lastError: z.string().nullable(),
    lastStatus: z.number().int().nullable(),
  });
const DeliveryRecord = () =>
  z.strictObject({
    id: z.string().regex(/^att_[A-Za-z0-9_-]{10,40}$/),
    channelId: z.string().min(1),
    itemIds: z.array(z.string()).max(100),
    event: z.enum(CHANNEL_EVENTS),
    attempt: z.number().int().nonnegative(),
    at: Millis(),
    durationMs: z.number().nonnegative(),
    outcome: z.enum(['delivered', 'retry', 'failed', 'disabled', 'dropped']),
    status: z.number().int().nullable(),
    error: z.string().nullable(),
    nextAttemptAt: Millis().nullable(),
  });
const CiReplayRecord = () => z.strictObject({ id: z.string().regex(/^[0-9a-f]{64}$/), until: Millis() });
const SettingsRecord = () =>
  z.strictObject({
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
    ciTrusts: z
      .array(
        z.strictObject({
          name: Name(),
          project: Name(),
          environment: Name(),
          scope: z.array(z.string().min(1)).min(1),
          ttlSeconds: z.number().int().positive(),
          issuer: z.string().startsWith('https://').max(2048),
          audience: z.string().min(1).max(2048),
          claims: z.array(z.strictObject({ claim: z.string().min(1).max(64), pattern: z.string().min(1).max(512) })),
          issuerCaPem: z.string().max(65_536).optional(),
          db: z.string().max(100).optional(),
          createdAt: Millis(),
        }),
      )
      .max(1000)
      .optional(),
  });

/**
 * Each kind of state record (its `t`), as a function that builds its schema: written to the journal
 * when it changes (`v` null = deleted) and to snapshots. A kind's schema is built at the first
 * record of that kind read back, so a daemon holds the schemas of what it has read, not all of them.
 */
const kinds = {
  project: () => z.strictObject({ t: z.literal('project'), p: Name(), v: ProjectMeta().nullable() }),
  env: () => z.strictObject({ t: z.literal('env'), p: Name(), e: Name(), v: EnvironmentMeta().nullable() }),
  secret: () =>
    z.strictObject({ t: z.literal('secret'), p: Name(), e: Name(), k: Name(), v: SecretRecord().nullable() }),
  lease: () => z.strictObject({ t: z.literal('lease'), id: Name(), v: LeaseRecord().nullable() }),
  channel: () => z.strictObject({ t: z.literal('channel'), id: Name(), v: ChannelRecord().nullable() }),
  outbox: () => z.strictObject({ t: z.literal('outbox'), id: Name(), v: OutboxRecord().nullable() }),
  delivery: () => z.strictObject({ t: z.literal('delivery'), id: Name(), v: DeliveryRecord().nullable() }),
  ciReplay: () => z.strictObject({ t: z.literal('ciReplay'), id: Name(), v: CiReplayRecord().nullable() }),
  version: () =>
    z.strictObject({ t: z.literal('version'), id: z.string().min(1).max(400), v: VersionRecord().nullable() }),
  trash: () => z.strictObject({ t: z.literal('trash'), id: z.string().min(1).max(400), v: TrashRecord().nullable() }),
  member: () => z.strictObject({ t: z.literal('member'), id: Name(), v: MemberRecord().nullable() }),
  device: () => z.strictObject({ t: z.literal('device'), id: Name(), v: DeviceRecord().nullable() }),
  invite: () => z.strictObject({ t: z.literal('invite'), id: Name(), v: InviteRecord().nullable() }),
  database: () => z.strictObject({ t: z.literal('database'), id: Name(), v: DatabaseRecord().nullable() }),
  dblogin: () => z.strictObject({ t: z.literal('dblogin'), id: Name(), v: DbLoginRecord().nullable() }),
  accessRequest: () =>
    z.strictObject({ t: z.literal('accessRequest'), id: Name(), v: AccessRequestRecord().nullable() }),
  settings: () => z.strictObject({ t: z.literal('settings'), v: SettingsRecord() }),
};
type Kind = keyof typeof kinds;
/** One state record change. */
export type Change = { [K in Kind]: z.infer<ReturnType<(typeof kinds)[K]>> }[Kind];
/** A project's own fields, as journaled (its environments are records of their own). */
export type ProjectFields = z.infer<ReturnType<typeof ProjectMeta>>;
/** An environment's own fields, as journaled (its secrets are records of their own). */
export type EnvironmentFields = z.infer<ReturnType<typeof EnvironmentMeta>>;

/** The record kinds' schemas built so far. */
const built = new Map<Kind, z.ZodType<Change>>();

/** Parses and validates one record payload; returns the reason it is not a valid record. */
export function parseChange(json: unknown): { change: Change } | { error: string } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { error: 'record: not an object' };
  const t: unknown = (json as { t?: unknown }).t;
  if (typeof t !== 'string' || !Object.hasOwn(kinds, t)) return { error: 't: not a kind of state record' };
  let schema = built.get(t as Kind);
  if (!schema) built.set(t as Kind, (schema = kinds[t as Kind]()));
  const parsed = schema.safeParse(json);
  if (parsed.success) return { change: parsed.data };
  const issue = parsed.error.issues[0]!;
  return { error: `${issue.path.join('.') || 'record'}: ${issue.message}` };
}
