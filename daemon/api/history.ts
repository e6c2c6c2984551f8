import type { RouteSpec } from './routes';

// Secret history and trash (issue 19, item 6). The routes sit here, spread into the contract by
// routes.ts; their input schemas are in history-inputs.ts.

/** What made a secret's value: `bella secrets set`, a `.env` import, a rollback, a restore, a database rotation. */
export const SECRET_CHANGES = ['set', 'import', 'rollback', 'restore', 'rotate'] as const;
/** One of {@link SECRET_CHANGES}. */
export type SecretChange = (typeof SECRET_CHANGES)[number];
/** What ended a value: a newer value of one of {@link SECRET_CHANGES}, or a delete. */
export const SECRET_ENDS = [...SECRET_CHANGES, 'delete'] as const;
/** One of {@link SECRET_ENDS}. */
export type SecretEnd = (typeof SECRET_ENDS)[number];

/** Versions kept per secret at least, however old. */
export const HISTORY_MIN_VERSIONS = 20;
/** Versions younger than this are kept too (ms): 90 days. */
export const HISTORY_KEEP_MS = 90 * 86_400_000;
/** Versions kept per secret at most, however young: a runaway script cannot grow the state without end. */
export const HISTORY_MAX_VERSIONS = 1000;
/** How long a deleted secret stays in the trash (ms): 30 days. */
export const TRASH_KEEP_MS = 30 * 86_400_000;

/** One version of a secret, as `bella secrets history` shows it. */
export interface SecretVersion {
  version: number;
  /** When this value was set. */
  at: string;
  /** What set it. */
  change: SecretChange;
  /** For a rollback or a restore: the version whose value it brought back. */
  from?: number;
  /** The live value (false for the versions in the history and for a secret in the trash). */
  current: boolean;
  /** When and by what it stopped being the live value; null for the current one. */
  endedAt: string | null;
  endedBy: SecretEnd | null;
  /** Set by a database rotation: rolling back to an older password is refused. */
  rotatedByDatabase?: string;
  /** The current value of a rotation whose ALTER ROLE is not confirmed yet (retried at start). */
  pending?: boolean;
  /** Only when values were asked for (the read is audited). */
  value?: string;
}

/** A deleted secret in the trash of an environment. */
export interface TrashedSecret {
  key: string;
  /** The version that was deleted, which `restore` brings back. */
  version: number;
  deletedAt: string;
  /** When the daemon drops it (and its history) for good. */
  purgeAt: string;
}

/** A secret's history, newest first. */
export interface SecretHistory {
  project: string;
  environment: string;
  key: string;
  /** Whether the secret is in the trash (no live value). */
  inTrash: boolean;
  versions: SecretVersion[];
}

/** A secret rotated on its database (`bella secrets rotate`, `expire-all --rotate`). */
export interface RotatedSecret {
  key: string;
  database: string;
  user: string;
}

function route<O>() {
  return <P extends 'admin' | 'token'>(spec: Omit<RouteSpec<O>, 'output' | 'plane'> & { plane: P }) =>
    spec as RouteSpec<O> & { plane: P };
}

const KEY_PATH = '/v1/projects/:project/environments/:environment/secrets/:key';

/** The history and trash routes of the contract. */
export const historyRoutes = {
  secretHistory: route<SecretHistory>()({
    method: 'GET',
    path: `${KEY_PATH}/history`,
    plane: 'admin',
    summary: "A secret's versions, newest first; values only with reveal (audited)",
  }),
  rollbackSecret: route<{ key: string; version: number; from: number }>()({
    method: 'POST',
    path: `${KEY_PATH}/rollback`,
    plane: 'admin',
    summary: 'Make an older version the live value again, as a new version (refused for a database-rotated secret)',
  }),
  rotateSecret: route<RotatedSecret & { version: number }>()({
    method: 'POST',
    path: `${KEY_PATH}/rotate`,
    plane: 'admin',
    summary: "Set a new password on a database's login user and store its URL in the secret, in one step",
  }),
  listTrash: route<{ trash: TrashedSecret[] }>()({
    method: 'GET',
    path: '/v1/projects/:project/environments/:environment/trash',
    plane: 'admin',
    summary: 'The deleted secrets of an environment, kept 30 days',
  }),
  restoreSecret: route<{ key: string; version: number; from: number }>()({
    method: 'POST',
    path: `${KEY_PATH}/restore`,
    plane: 'admin',
    summary: 'Bring a deleted secret back from the trash (refused while a live secret of that name exists)',
  }),
  purgeSecret: route<{ purged: string; versions: number }>()({
    method: 'POST',
    path: `${KEY_PATH}/purge`,
    plane: 'admin',
    summary: 'Destroy a secret for good: its live value, its trash entry and every version',
  }),
} as const;
