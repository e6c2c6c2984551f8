import type { ChannelHealthView, ChannelView, DeliveryAttempt, OutboxItem } from './channels';
import type { AuditEntry, Environment, Lease, LeasePolicy, Project, Secret } from './types';
import type { DotenvProblem } from './dotenv';
import { ciRoutes } from './ci';
import { historyRoutes, type RotatedSecret } from './history';
import { teamRoutes } from './team';
import { databaseRoutes } from './databases';
import { requestRoutes } from './requests';

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

// Curried so the response type is given and the plane inferred: keeping each plane's literal type
// lets other modules derive per-plane name types (the desktop app's admin surface).
function route<O>() {
  return <P extends Plane>(spec: Omit<RouteSpec<O>, 'output' | 'plane'> & { plane: P }): RouteSpec<O> & { plane: P } =>
    spec;
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
  /** What needs the owner's attention now (audit trail, disk), one sentence each; empty when all is well. */
  problems: string[];
  /** Where the state is kept and, on PostgreSQL, this node's part among the nodes. */
  storage: StorageStatus;
}

/** The active node as PostgreSQL records it (`bella_leader`). */
export interface ActiveNode {
  node: string | null;
  url: string | null;
  epoch: number;
  since: string | null;
}

/**
 * Where a daemon keeps its state: the files of its data directory, or PostgreSQL shared by several
 * nodes, one of them active (it commits and serves) and the others standbys (they redirect to it).
 */
export type StorageStatus =
  | { kind: 'files' }
  | {
      kind: 'postgres';
      /** `host:port/database`, never credentials. */
      server: string;
      role: 'active' | 'standby';
      /** This node's name and the URL holders reach it at (`--node`, `--url`). */
      node: string;
      url: string | null;
      /** This node's epoch while active; null on a standby. */
      epoch: number | null;
      /** The active node (this one when active); null when none holds leadership. */
      active: ActiveNode | null;
    };

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

/** What `audit verify` found: the first entry that breaks the chain, if any, and where it is. */
export interface AuditVerification {
  ok: boolean;
  /** Entries checked. */
  entries: number;
  firstBroken: {
    /** The entry where the chain breaks (null when that cannot be told). */
    seq: number | null;
    file: string;
    /** Byte offset in `file`. */
    offset: number;
    reason: string;
  } | null;
  /** On PostgreSQL: which epoch (term of an active node) wrote which entries, oldest first. */
  epochs?: Array<{ epoch: number; first: number; last: number }>;
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
  /** Where a holder on another machine reaches the token plane (`BELLA_SERVER`); null while no listener runs. */
  server: string | null;
  /** The listener certificate's fingerprint to pin (`BELLA_SERVER_FINGERPRINT`); null while no listener runs. */
  fingerprint: string | null;
  /** Which address `server` is and what else there is, when the daemon chose it (`serverNote` in handover.ts). */
  serverNote: string | null;
  /** The listener's public-key pin for curl (`sha256//` + base64 SHA-256 of its SPKI); null while no listener runs. */
  pinnedPublicKey: string | null;
}

/** The opt-in TLS listener that serves the token plane to other machines. */
export interface ListenerStatus {
  enabled: boolean;
  /** `HOST:PORT` it is configured to listen on. */
  address: string;
  /** What it is bound to right now (empty when not listening). */
  listening: string[];
  /** The `BELLA_SERVER` values a holder can use, best first (`publicUrl` first when set). */
  urls: string[];
  /** `--public-url`: a DNS name or port forward holders use; null: the daemon chooses. */
  publicUrl: string | null;
  /** Which address the daemon chose for holders and what else there is; null when the owner named it. */
  urlNote: string | null;
  /** The certificate's SHA-256, `sha256:` + 64 hex digits (`BELLA_SERVER_FINGERPRINT`). */
  fingerprint: string | null;
  /** `curl --pinnedpubkey` value: `sha256//` + base64 SHA-256 of the certificate's SubjectPublicKeyInfo. */
  pinnedPublicKey: string | null;
  /** Where holders fetch the one-file CLI (`GET /v1/cli/bella.mjs`, no token); null while no URL is known. */
  cliUrl: string | null;
  /** When the certificate expires (ISO time). */
  notAfter: string | null;
  /** Names and addresses the certificate is valid for. */
  names: string[];
  /** `self-signed` (generated, pinned by fingerprint) or `own` (from the owner's CA). */
  certificate: 'self-signed' | 'own' | null;
  /** Source addresses allowed to connect (CIDRs); empty allows any. */
  allow: string[];
  /** Why it is enabled but not listening, if it is not. */
  problem: string | null;
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
  importSecrets: route<{
    added: string[];
    updated: string[];
    unchanged: string[];
    problems: DotenvProblem[];
    dryRun: boolean;
  }>()({
    method: 'POST',
    path: '/v1/projects/:project/environments/:environment/secrets',
    plane: 'admin',
    summary:
      'Set the secrets of a .env text (parsed by the daemon); a text with problems is refused unless skipInvalid (then they are skipped and listed); dryRun reports changes and problems only',
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
  renewLease: route<{ lease: Lease; capped: IssuedLease['capped']; credentialWarning?: string }>()({
    method: 'POST',
    path: '/v1/leases/:id/renew',
    plane: 'admin',
    summary: 'Extend an active lease to now + ttl (capped by policy)',
  }),
  revokeLease: route<{
    lease: Lease;
    alreadyEnded: boolean;
    /** A lease with a database login role: whether it is dropped, still pending (why), or given up (`force`). */
    credential?: { user: string; dropped: boolean; abandoned: boolean; error: string | null };
  }>()({
    method: 'POST',
    path: '/v1/leases/:id/revoke',
    plane: 'admin',
    summary: 'Revoke a lease at once; a lease that already ended is left as it is',
  }),
  expireAll: route<{
    revoked: number;
    rotatedAt: string;
    reencryptedSecrets: number;
    /** With `rotate`: the database-linked secrets rotated, and those that failed (with why). */
    rotated?: RotatedSecret[];
    rotationFailed?: Array<RotatedSecret & { error: string }>;
  }>()({
    method: 'POST',
    path: '/v1/projects/:project/environments/:environment/expire-all',
    plane: 'admin',
    summary: 'Revoke every active lease and rotate the environment credentials',
  }),
  listAudit: route<{ entries: AuditEntry[]; nextCursor: number | null }>()({
    method: 'GET',
    path: '/v1/audit',
    plane: 'admin',
    summary: 'List audit entries newest first, filtered; pass nextCursor as before for the next page',
  }),
  verifyAudit: route<AuditVerification>()({
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
  getListener: route<{ listener: ListenerStatus }>()({
    method: 'GET',
    path: '/v1/listener',
    plane: 'admin',
    summary: 'Show the TLS listener: addresses, URLs, certificate fingerprint',
  }),
  enableListener: route<{ listener: ListenerStatus }>()({
    method: 'POST',
    path: '/v1/listener',
    plane: 'admin',
    summary: 'Serve the token plane over TLS to other machines (persisted; served at once)',
  }),
  disableListener: route<{ listener: ListenerStatus }>()({
    method: 'POST',
    path: '/v1/listener/disable',
    plane: 'admin',
    summary: 'Stop serving the token plane to other machines',
  }),
  rotateListenerCertificate: route<{ listener: ListenerStatus }>()({
    method: 'POST',
    path: '/v1/listener/rotate-cert',
    plane: 'admin',
    summary: 'Replace the self-signed certificate (holders need the new fingerprint)',
  }),
  listChannels: route<{ channels: Array<ChannelView & { health: ChannelHealthView | null }>; pending: number }>()({
    method: 'GET',
    path: '/v1/channels',
    plane: 'admin',
    summary: 'List notification channels (URLs masked) and how each is doing',
  }),
  addChannel: route<{ channel: ChannelView & { health: ChannelHealthView | null }; secret: string | null }>()({
    method: 'POST',
    path: '/v1/channels',
    plane: 'admin',
    summary: 'Add a webhook, Slack or Discord channel; a webhook signing secret is shown once',
  }),
  removeChannel: route<{ removed: string; pendingDropped: number }>()({
    method: 'DELETE',
    path: '/v1/channels/:id',
    plane: 'admin',
    summary: 'Remove a channel and its undelivered events',
  }),
  testChannel: route<{ delivered: boolean; status: number | null; error: string | null }>()({
    method: 'POST',
    path: '/v1/channels/:id/test',
    plane: 'admin',
    summary: 'Send a test event to a channel now and report how it answered',
  }),
  rotateChannelSecret: route<{ secret: string }>()({
    method: 'POST',
    path: '/v1/channels/:id/rotate-secret',
    plane: 'admin',
    summary: 'A new webhook signing secret (shown once); the old one keeps signing for a day',
  }),
  enableChannel: route<{ channel: ChannelView & { health: ChannelHealthView | null } }>()({
    method: 'POST',
    path: '/v1/channels/:id/enable',
    plane: 'admin',
    summary: 'Deliver to a disabled channel again',
  }),
  disableChannel: route<{ channel: ChannelView & { health: ChannelHealthView | null } }>()({
    method: 'POST',
    path: '/v1/channels/:id/disable',
    plane: 'admin',
    summary: 'Stop delivering to a channel (events wait, none are lost, until it is enabled)',
  }),
  listDeliveries: route<{ deliveries: DeliveryAttempt[]; failed: OutboxItem[] }>()({
    method: 'GET',
    path: '/v1/deliveries',
    plane: 'admin',
    summary: 'The delivery log, newest first, and the events that used all their attempts',
  }),
  retryDelivery: route<{ requeued: string[] }>()({
    method: 'POST',
    path: '/v1/deliveries/:id/retry',
    plane: 'admin',
    summary: 'Deliver a failed event again now',
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
  ...ciRoutes,
  ...historyRoutes,
  ...teamRoutes,
  ...databaseRoutes,
  ...requestRoutes,
} as const;

/** The name of an operation. */
export type OperationName = keyof typeof routes;
/** What an operation answers. */
export type OperationOutput<K extends OperationName> = NonNullable<(typeof routes)[K]['output']>;

/** Names of the path parameters of a path template, e.g. `['project', 'environment']`. */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/:([a-zA-Z]+)/g)].map((m) => m[1] as string);
}
