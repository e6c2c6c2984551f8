import { z } from 'zod';
import {
  AuditEvent,
  EnvironmentRef,
  Flag,
  LeaseRef,
  LeaseStatus,
  Outcome,
  Reason,
  ProjectRef,
  ScopeEntry,
  SecretKey,
  SecretValue,
  Seconds,
  Slug,
  type AuditEntry,
  type Environment,
  type Lease,
  type LeasePolicy,
  type Project,
  type Secret,
} from './schemas';

/** How an operation is reached: the owner's admin plane, or the token plane (Bearer bax-…). */
export type Plane = 'admin' | 'token';

/**
 * One operation of the API. `input` is a single object: the `:names` in `path` are taken from
 * it, the rest travels as the query string (GET, DELETE) or the JSON body (POST, PUT).
 */
export interface OperationSpec<I extends z.ZodType = z.ZodType, O = unknown> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  plane: Plane;
  summary: string;
  input: I;
  /** Phantom field carrying the response type; never set at runtime. */
  output?: O;
}

function op<O>() {
  return <I extends z.ZodType>(spec: Omit<OperationSpec<I, O>, 'output'>): OperationSpec<I, O> => spec;
}

const Empty = z.object({});
const ProjectInput = z.object({ slug: Slug, name: z.string().trim().min(1).max(200) });
const EnvironmentCreate = ProjectRef.extend({ slug: Slug, name: z.string().trim().min(1).max(200) });
const Force = z.object({ force: Flag.optional() });

/** The daemon's state as reported by `bella daemon status`. */
export interface DaemonStatus {
  version: string;
  pid: number;
  startedAt: string;
  dataDir: string;
  socket: string;
  counts: { projects: number; environments: number; secrets: number; activeLeases: number };
  notifications: NotificationHealth;
}

/** Whether desktop notifications can be delivered, and why not. */
export interface NotificationHealth {
  available: boolean;
  problem: string | null;
}

/** Desktop notification settings. */
export interface NotificationSettings {
  desktop: boolean;
  /** Per environment (`project/environment`) overrides of `desktop`. */
  environments: Record<string, boolean>;
}

/** The result of issuing a lease. The token is shown here once and never again. */
export interface IssuedLease {
  lease: Lease;
  token: string;
  /** Set when the requested ttl was longer than the environment's policy allows. */
  capped: { requestedSeconds: number; policySeconds: number } | null;
}

/**
 * Every operation of the bella API, once. The daemon routes and validates from this table, the
 * client and the Electron relay call through it, the renderer is typed by it.
 */
export const operations = {
  status: op<DaemonStatus>()({
    method: 'GET',
    path: '/v1/status',
    plane: 'admin',
    summary: 'Daemon version, data directory and health',
    input: Empty,
  }),
  shutdown: op<{ stopping: true }>()({
    method: 'POST',
    path: '/v1/shutdown',
    plane: 'admin',
    summary: 'Stop the daemon gracefully',
    input: Empty,
  }),
  listProjects: op<{ projects: Project[] }>()({
    method: 'GET',
    path: '/v1/projects',
    plane: 'admin',
    summary: 'List projects',
    input: Empty,
  }),
  createProject: op<{ project: Project }>()({
    method: 'POST',
    path: '/v1/projects',
    plane: 'admin',
    summary: 'Create a project',
    input: ProjectInput,
  }),
  deleteProject: op<{ deleted: string; environments: number; secrets: number; revokedLeases: number }>()({
    method: 'DELETE',
    path: '/v1/projects/:project',
    plane: 'admin',
    summary: 'Delete a project; one holding secrets needs force',
    input: ProjectRef.merge(Force),
  }),
  listEnvironments: op<{ environments: Environment[] }>()({
    method: 'GET',
    path: '/v1/projects/:project/environments',
    plane: 'admin',
    summary: 'List the environments of a project',
    input: ProjectRef,
  }),
  createEnvironment: op<{ environment: Environment }>()({
    method: 'POST',
    path: '/v1/projects/:project/environments',
    plane: 'admin',
    summary: 'Create an environment',
    input: EnvironmentCreate,
  }),
  deleteEnvironment: op<{ deleted: string; secrets: number; revokedLeases: number }>()({
    method: 'DELETE',
    path: '/v1/projects/:project/environments/:environment',
    plane: 'admin',
    summary: 'Delete an environment; one holding secrets needs force',
    input: EnvironmentRef.merge(Force),
  }),
  getLeasePolicy: op<{ policy: LeasePolicy | null }>()({
    method: 'GET',
    path: '/v1/projects/:project/environments/:environment/lease-policy',
    plane: 'admin',
    summary: 'Show the lease policy of an environment',
    input: EnvironmentRef,
  }),
  setLeasePolicy: op<{ policy: LeasePolicy; cappedLeases: number }>()({
    method: 'PUT',
    path: '/v1/projects/:project/environments/:environment/lease-policy',
    plane: 'admin',
    summary: 'Set the lease policy; caps active leases to now + ttl',
    input: EnvironmentRef.extend({ ttlSeconds: Seconds, warnBeforeSeconds: Seconds }),
  }),
  clearLeasePolicy: op<{ cleared: boolean }>()({
    method: 'DELETE',
    path: '/v1/projects/:project/environments/:environment/lease-policy',
    plane: 'admin',
    summary: 'Remove the lease policy',
    input: EnvironmentRef,
  }),
  listSecrets: op<{ secrets: Secret[] }>()({
    method: 'GET',
    path: '/v1/projects/:project/environments/:environment/secrets',
    plane: 'admin',
    summary: 'List secret keys; values only with reveal (audited)',
    input: EnvironmentRef.extend({ reveal: Flag.optional() }),
  }),
  getSecret: op<{ secret: Required<Secret> }>()({
    method: 'GET',
    path: '/v1/projects/:project/environments/:environment/secrets/:key',
    plane: 'admin',
    summary: 'Read one secret (audited)',
    input: EnvironmentRef.extend({ key: SecretKey }),
  }),
  setSecret: op<{ secret: Secret; created: boolean }>()({
    method: 'PUT',
    path: '/v1/projects/:project/environments/:environment/secrets/:key',
    plane: 'admin',
    summary: 'Create or replace a secret',
    input: EnvironmentRef.extend({ key: SecretKey, value: SecretValue }),
  }),
  deleteSecret: op<{ deleted: string }>()({
    method: 'DELETE',
    path: '/v1/projects/:project/environments/:environment/secrets/:key',
    plane: 'admin',
    summary: 'Delete a secret',
    input: EnvironmentRef.extend({ key: SecretKey }),
  }),
  importSecrets: op<{ added: string[]; updated: string[]; unchanged: string[]; dryRun: boolean }>()({
    method: 'POST',
    path: '/v1/projects/:project/environments/:environment/secrets',
    plane: 'admin',
    summary: 'Set many secrets at once (push a .env); dryRun only reports',
    input: EnvironmentRef.extend({
      secrets: z
        .record(SecretKey, SecretValue)
        .refine((s) => Object.keys(s).length <= 5000, 'at most 5000 secrets at once'),
      dryRun: Flag.optional(),
    }),
  }),
  listLeases: op<{ leases: Lease[]; total: number; nextCursor: number | null }>()({
    method: 'GET',
    path: '/v1/leases',
    plane: 'admin',
    summary: 'List leases, newest first; active only unless status or all is given',
    input: z.object({
      project: Slug.optional(),
      environment: Slug.optional(),
      status: LeaseStatus.optional(),
      all: Flag.optional(),
      limit: z.coerce.number().int().min(1).max(10_000).optional(),
      cursor: z.coerce.number().int().min(0).optional(),
    }),
  }),
  issueLease: op<IssuedLease>()({
    method: 'POST',
    path: '/v1/leases',
    plane: 'admin',
    summary: 'Issue a lease and its bax- token',
    input: EnvironmentRef.extend({
      scope: z.array(ScopeEntry).min(1, 'name at least one key or glob').max(200),
      ttlSeconds: Seconds.optional(),
      reason: Reason,
    }),
  }),
  getLease: op<{ lease: Lease }>()({
    method: 'GET',
    path: '/v1/leases/:id',
    plane: 'admin',
    summary: 'Show a lease',
    input: LeaseRef,
  }),
  renewLease: op<{ lease: Lease; capped: IssuedLease['capped'] }>()({
    method: 'POST',
    path: '/v1/leases/:id/renew',
    plane: 'admin',
    summary: 'Extend an active lease to now + ttl (capped by policy)',
    input: LeaseRef.extend({ ttlSeconds: Seconds.optional() }),
  }),
  revokeLease: op<{ lease: Lease }>()({
    method: 'POST',
    path: '/v1/leases/:id/revoke',
    plane: 'admin',
    summary: 'Revoke a lease at once',
    input: LeaseRef.extend({ reason: z.string().trim().max(1000).optional() }),
  }),
  expireAll: op<{ revoked: number; rotatedAt: string; reencryptedSecrets: number }>()({
    method: 'POST',
    path: '/v1/projects/:project/environments/:environment/expire-all',
    plane: 'admin',
    summary: 'Revoke every active lease and rotate the environment credentials',
    input: EnvironmentRef,
  }),
  listAudit: op<{ entries: AuditEntry[]; total: number }>()({
    method: 'GET',
    path: '/v1/audit',
    plane: 'admin',
    summary: 'List audit entries, oldest first, filtered',
    input: z.object({
      project: Slug.optional(),
      environment: Slug.optional(),
      since: z.string().datetime({ offset: true, message: 'since must be an ISO 8601 time' }).optional(),
      event: AuditEvent.optional(),
      outcome: Outcome.optional(),
      lease: LeaseRef.shape.id.optional(),
      limit: z.coerce.number().int().min(1).max(100_000).optional(),
    }),
  }),
  verifyAudit: op<{ ok: boolean; entries: number; firstBroken: { line: number; reason: string } | null }>()({
    method: 'GET',
    path: '/v1/audit/verify',
    plane: 'admin',
    summary: 'Verify the audit hash chain',
    input: Empty,
  }),
  getNotificationSettings: op<{ settings: NotificationSettings; health: NotificationHealth }>()({
    method: 'GET',
    path: '/v1/notifications',
    plane: 'admin',
    summary: 'Show desktop notification settings',
    input: Empty,
  }),
  setNotificationSettings: op<{ settings: NotificationSettings }>()({
    method: 'PUT',
    path: '/v1/notifications',
    plane: 'admin',
    summary: 'Turn desktop notifications on or off, globally or for one environment',
    input: z.object({
      desktop: Flag,
      project: Slug.optional(),
      environment: Slug.optional(),
    }),
  }),
  testNotification: op<{ sent: boolean; problem: string | null }>()({
    method: 'POST',
    path: '/v1/notifications/test',
    plane: 'admin',
    summary: 'Send a test desktop notification',
    input: Empty,
  }),
  readSecrets: op<{
    project: string;
    environment: string;
    leaseId: string;
    expiresAt: string;
    secrets: Record<string, string>;
  }>()({
    method: 'GET',
    path: '/v1/secrets',
    plane: 'token',
    summary: "Read the lease's secrets with Authorization: Bearer bax-…",
    input: z.object({
      keys: z
        .string()
        .optional()
        .transform((s) =>
          s
            ? s
                .split(',')
                .map((k) => k.trim())
                .filter(Boolean)
            : undefined,
        )
        .pipe(z.array(SecretKey).optional()),
    }),
  }),
} as const;

/** The operations table's type. */
export type Operations = typeof operations;
/** The name of an operation. */
export type OperationName = keyof Operations;
/** What a caller passes to an operation. */
export type OperationInput<K extends OperationName> = z.input<Operations[K]['input']>;
/** What the daemon's handler receives after validation. */
export type OperationArgs<K extends OperationName> = z.output<Operations[K]['input']>;
/** What an operation answers. */
export type OperationOutput<K extends OperationName> = NonNullable<Operations[K]['output']>;

/** Names of the path parameters of a path template, e.g. `['project', 'environment']`. */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/:([a-zA-Z]+)/g)].map((m) => m[1] as string);
}

/** The admin-plane operation names (everything the desktop app may call). */
export const adminOperations = (Object.keys(operations) as OperationName[]).filter(
  (name) => operations[name].plane === 'admin',
);
