/** What a secret key is: usable as an environment variable name. */
export const SECRET_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** What a scope entry is: a key name or a `*`-glob such as `STRIPE_*`. */
export const SCOPE_ENTRY_PATTERN = /^[A-Za-z0-9_*]+$/;

/** Lease statuses, as stored and shown. */
export const LEASE_STATUSES = ['active', 'expired', 'revoked'] as const;
/** Lease status. */
export type LeaseStatus = (typeof LEASE_STATUSES)[number];

/** Audit outcomes. */
export const OUTCOMES = ['Success', 'Denied'] as const;
/** Audit outcome. */
export type Outcome = (typeof OUTCOMES)[number];

/** Every event name that appears in the audit trail and on the event stream. */
export const AUDIT_EVENTS = [
  'ProjectCreated',
  'ProjectDeleted',
  'EnvironmentCreated',
  'EnvironmentDeleted',
  'LeasePolicySet',
  'LeasePolicyCleared',
  'SecretSet',
  'SecretDeleted',
  'SecretsImported',
  'SecretsRead',
  'LeaseIssued',
  'LeaseRenewed',
  'LeaseRevoked',
  'LeaseExpired',
  'LeaseExpiringSoon',
  'LeasesExpiredAll',
  'NotificationSettingsChanged',
  'AuditEntriesMissing',
  'StateRestored',
  'ListenerEnabled',
  'ListenerDisabled',
  'ListenerCertificateRotated',
  'ChannelAdded',
  'ChannelRemoved',
  'ChannelChanged',
  'CiTrustAdded',
  'CiTrustRemoved',
  'CiLoginDenied',
  'SecretRolledBack',
  'SecretRestored',
  'SecretPurged',
  'TeamInvited',
  'TeamJoined',
  'TeamChanged',
  'DeviceRefused',
  'DatabaseAdded',
  'DatabaseRemoved',
  'DatabaseRoleAdded',
  'DatabaseRoleRemoved',
  'CredentialCreated',
  'CredentialRevoked',
  'CredentialRevokeFailed',
  'CredentialRevokeAbandoned',
  'AccessRequested',
  'AccessApproved',
  'AccessDenied',
  'AccessRequestExpired',
  'AccessTokenFetched',
  'PolicyBypassed',
  'BreakGlassReviewed',
  'SecretRotated',
  'NodeActivated',
] as const;
/** One of {@link AUDIT_EVENTS}. */
export type AuditEvent = (typeof AUDIT_EVENTS)[number];

/** A lease policy: how long tokens of an environment live and when their holders are warned. */
export interface LeasePolicy {
  ttlSeconds: number;
  warnBeforeSeconds: number;
  /** Break-glass (issue 17): when set, a teammate with a grant may take a lease at once, at most this long. */
  breakGlassSeconds?: number;
}

/** A project as listed. */
export interface Project {
  slug: string;
  name: string;
  createdAt: string;
  environments: string[];
}

/** An environment as listed. */
export interface Environment {
  project: string;
  slug: string;
  name: string;
  createdAt: string;
  policy: LeasePolicy | null;
  secretCount: number;
  activeLeases: number;
  /** When expire-all last rotated this environment's credentials, if ever. */
  rotatedAt: string | null;
}

/** A secret as listed; `value` only when revealed. */
export interface Secret {
  key: string;
  value?: string;
  updatedAt: string;
}

/** A lease as shown to its owner. The token is never part of it. */
export interface Lease {
  id: string;
  project: string;
  environment: string;
  scope: string[];
  reason: string;
  issuedAt: string;
  expiresAt: string;
  status: LeaseStatus;
  renewals: number;
  lastUsedAt: string | null;
  endedAt: string | null;
  endReason: string | null;
  /** `--db DB:ROLE`: the database login role of its own, under the key `key`. */
  database?: { name: string; role: string; user: string; key: string };
}

/** One line of the audit trail. Never carries a secret value or a token. */
export interface AuditEntry {
  seq: number;
  ts: string;
  event: AuditEvent;
  outcome: Outcome;
  /** `ci:<trust>` for a lease a CI job's JWT bought; `NAME (device sha256:…)` for a teammate's device. */
  actor: 'owner' | 'token' | 'daemon' | `ci:${string}` | `${string} (device sha256:${string})`;
  project?: string;
  environment?: string;
  leaseId?: string;
  keys?: string[];
  reason?: string;
  message?: string;
  /** Where a token-plane request came from: `socket`, or the peer's address on the TLS listener. */
  source?: string;
  /** For an aggregated refusal: how many requests it stands for. */
  count?: number;
  /** This entry's keyed hash, chained to the previous entry's. */
  hash: string;
}
