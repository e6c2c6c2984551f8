import type { AuditEntry, Environment, Lease, LeasePolicy, Project, Secret } from './types';

/** How an operation is reached: the owner's admin plane, or the token plane (Bearer bax-…). */
export type Plane = 'admin' | 'token';

/**
 * Where and how an operation is served, and what it answers. This table is free of the schema
 * library, so light clients (the CLI) load it without the validators; `operations.ts` adds each
 * operation's input schema.
 */
export interface RouteSpec<O = unknown> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  plane: Plane;
  summary: string;
  /** Phantom field carrying the response type; never set at runtime. */
  output?: O;
}

function route<O>() {
  return (spec: Omit<RouteSpec<O>, 'output'>): RouteSpec<O> => spec;
}

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

/**
 * Whether desktop notifications are delivered, as far as the daemon knows: `null` until one has
 * been sent or tested (nothing is claimed before that), then whether the last one was shown;
 * `false` also when the notifier is known to be missing. `problem` says why not.
 */
export interface NotificationHealth {
  available: boolean | null;
  problem: string | null;
}

/** Desktop notification settings. */
export interface NotificationSettings {
  desktop: boolean;
  /** Per environment (`project/environment`) overrides of `desktop`. */
  environments: Record<string, boolean>;
}

/** What a token's holder may know of its own lease: no reason, no other lease. */
export interface HolderLease {
  id: string;
  project: string;
  environment: string;
  scope: string[];
  issuedAt: string;
  expiresAt: string;
  status: Lease['status'];
  /** Successful reads with this token. */
  uses: number;
  lastUsedAt: string | null;
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
/** Every operation of the bella API, once: method, path, plane and response type. */
export const routes = {
  status: route<DaemonStatus>()({
    method: 'GET',
    path: '/v1/status',
    plane: 'admin',
    summary: 'Daemon version, data directory and health',
  }),
  shutdown: route<{ stopping: true }>()({
    method: 'POST',
    path: '/v1/shutdown',
    plane: 'admin',
    summary: 'Stop the daemon gracefully',
  }),
  listProjects: route<{ projects: Project[] }>()({
    method: 'GET',
    path: '/v1/projects',
    plane: 'admin',
    summary: 'List projects',
  }),
  createProject: route<{ project: Project }>()({
    method: 'POST',
    path: '/v1/projects',
    plane: 'admin',
    summary: 'Create a project',
  }),
  deleteProject: route<{ deleted: string; environments: number; secrets: number; revokedLeases: number }>()({
    method: 'DELETE',
    path: '/v1/projects/:project',
    plane: 'admin',
    summary: 'Delete a project; one holding secrets needs force',
  }),
  listEnvironments: route<{ environments: Environment[] }>()({
    method: 'GET',
    path: '/v1/projects/:project/environments',
    plane: 'admin',
    summary: 'List the environments of a project',
  }),
  createEnvironment: route<{ environment: Environment }>()({
    method: 'POST',
    path: '/v1/projects/:project/environments',
    plane: 'admin',
    summary: 'Create an environment',
  }),
  deleteEnvironment: route<{ deleted: string; secrets: number; revokedLeases: number }>()({
    method: 'DELETE',
    path: '/v1/projects/:project/environments/:environment',
    plane: 'admin',
    summary: 'Delete an environment; one holding secrets needs force',
  }),
  getLeasePolicy: route<{ policy: LeasePolicy | null }>()({
    method: 'GET',
    path: '/v1/projects/:project/environments/:environment/lease-policy',
    plane: 'admin',
    summary: 'Show the lease policy of an environment',
  }),
  setLeasePolicy: route<{ policy: LeasePolicy; cappedLeases: number }>()({
    method: 'PUT',
    path: '/v1/projects/:project/environments/:environment/lease-policy',
    plane: 'admin',
    summary: 'Set the lease policy; caps active leases to now + ttl',
  }),
  clearLeasePolicy: route<{ cleared: boolean }>()({
    method: 'DELETE',
    path: '/v1/projects/:project/environments/:environment/lease-policy',
    plane: 'admin',
    summary: 'Remove the lease policy',
  }),
  listSecrets: route<{ secrets: Secret[] }>()({
    method: 'GET',
    path: '/v1/projects/:project/environments/:environment/secrets',
    plane: 'admin',
    summary: 'List secret keys; values only with reveal (audited)',
  }),
  getSecret: route<{ secret: Required<Secret> }>()({
    method: 'GET',
    path: '/v1/projects/:project/environments/:environment/secrets/:key',
    plane: 'admin',
    summary: 'Read one secret (audited)',
  }),
  setSecret: route<{ secret: Secret; created: boolean }>()({
    method: 'PUT',
    path: '/v1/projects/:project/environments/:environment/secrets/:key',
    plane: 'admin',
    summary: 'Create or replace a secret',
  }),
  deleteSecret: route<{ deleted: string }>()({
    method: 'DELETE',
    path: '/v1/projects/:project/environments/:environment/secrets/:key',
    plane: 'admin',
    summary: 'Delete a secret',
  }),
  importSecrets: route<{ added: string[]; updated: string[]; unchanged: string[]; dryRun: boolean }>()({
    method: 'POST',
    path: '/v1/projects/:project/environments/:environment/secrets',
    plane: 'admin',
    summary: 'Set many secrets at once (push a .env); dryRun only reports',
  }),
  listLeases: route<{ leases: Lease[]; total: number; nextCursor: number | null }>()({
    method: 'GET',
    path: '/v1/leases',
    plane: 'admin',
    summary: 'List leases, newest first; active only unless status or all is given',
  }),
  issueLease: route<IssuedLease>()({
    method: 'POST',
    path: '/v1/leases',
    plane: 'admin',
    summary: 'Issue a lease and its bax- token',
  }),
  getLease: route<{ lease: Lease }>()({
    method: 'GET',
    path: '/v1/leases/:id',
    plane: 'admin',
    summary: 'Show a lease',
  }),
  renewLease: route<{ lease: Lease; capped: IssuedLease['capped'] }>()({
    method: 'POST',
    path: '/v1/leases/:id/renew',
    plane: 'admin',
    summary: 'Extend an active lease to now + ttl (capped by policy)',
  }),
  revokeLease: route<{ lease: Lease; alreadyEnded: boolean }>()({
    method: 'POST',
    path: '/v1/leases/:id/revoke',
    plane: 'admin',
    summary: 'Revoke a lease at once; a lease that already ended is left as it is',
  }),
  expireAll: route<{ revoked: number; rotatedAt: string; reencryptedSecrets: number }>()({
    method: 'POST',
    path: '/v1/projects/:project/environments/:environment/expire-all',
    plane: 'admin',
    summary: 'Revoke every active lease and rotate the environment credentials',
  }),
  listAudit: route<{
    entries: AuditEntry[];
    nextCursor: number | null;
    /** How many older entries match beyond this page, when the daemon can tell cheaply. */
    remaining?: number;
  }>()({
    method: 'GET',
    path: '/v1/audit',
    plane: 'admin',
    summary: 'List audit entries newest first, filtered; pass nextCursor as before for the next page',
  }),
  verifyAudit: route<{ ok: boolean; entries: number; firstBroken: { line: number; reason: string } | null }>()({
    method: 'GET',
    path: '/v1/audit/verify',
    plane: 'admin',
    summary: 'Verify the audit hash chain',
  }),
  getNotificationSettings: route<{ settings: NotificationSettings; health: NotificationHealth }>()({
    method: 'GET',
    path: '/v1/notifications',
    plane: 'admin',
    summary: 'Show desktop notification settings',
  }),
  setNotificationSettings: route<{ settings: NotificationSettings }>()({
    method: 'PUT',
    path: '/v1/notifications',
    plane: 'admin',
    summary: 'Turn desktop notifications on or off, globally or for one environment',
  }),
  testNotification: route<{ sent: boolean; problem: string | null }>()({
    method: 'POST',
    path: '/v1/notifications/test',
    plane: 'admin',
    summary: 'Send a test desktop notification',
  }),
  lookupToken: route<{ lease: HolderLease }>()({
    method: 'GET',
    path: '/v1/token',
    plane: 'token',
    summary: "The holder's own lease, for Authorization: Bearer bax-…",
  }),
  revokeToken: route<{ lease: HolderLease; alreadyEnded: boolean }>()({
    method: 'POST',
    path: '/v1/token/revoke',
    plane: 'token',
    summary: 'The holder ends its own lease at once (e.g. at the end of a CI job)',
  }),
  readSecrets: route<{
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
  }),
} as const;

/** The name of an operation. */
export type OperationName = keyof typeof routes;
/** What an operation answers. */
export type OperationOutput<K extends OperationName> = NonNullable<(typeof routes)[K]['output']>;

/** Names of the path parameters of a path template, e.g. `['project', 'environment']`. */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/:([a-zA-Z]+)/g)].map((m) => m[1] as string);
}
