import { HISTORY_KEEP_MS, HISTORY_MAX_VERSIONS, HISTORY_MIN_VERSIONS, TRASH_KEEP_MS, type SecretChange } from '../api';
import {
  own,
  secretId,
  versionId,
  type State,
  type StoredEnvironment,
  type StoredSecret,
  type StoredTrash,
  type StoredVersion,
  type Touched,
} from '../store';

// A secret's history as records of the state, changed inside transactions. Every change of a live
// value keeps the value it replaces as a version record of its own (`p/e/k@n`), so a commit
// writes the one new version, never the whole history. Versions of a key are always its newest
// ones, numbered without gaps: pruning drops the oldest, so they are found by counting down from
// the newest. Invariants: a trash entry exists only while the key has no live value and names the
// newest version; versions exist only while the key is live or in the trash.

/** Where a secret lives. */
export interface SecretRef {
  project: string;
  environment: string;
  key: string;
}

/** A new live value: sealed with the environment's data key and the key's associated data. */
export interface NewValue {
  sealed: string;
  change: SecretChange;
  from?: number;
  rotatedByDatabase?: string;
  rotatedUser?: string;
  /** A rotation committed before its ALTER ROLE (see databases/rotation.ts). */
  rotationPending?: boolean;
}

/** The number of the newest version of a key: its live value's, or the deleted one's; 0 if neither. */
export function newestVersion(state: State, env: StoredEnvironment, ref: SecretRef): number {
  const live = own(env.secrets, ref.key);
  if (live) return live.version ?? 1;
  return state.trash.get(secretId(ref.project, ref.environment, ref.key))?.version ?? 0;
}

/** The earlier versions of a key, newest first (the live value is not among them). */
export function versionsOf(state: State, env: StoredEnvironment, ref: SecretRef): StoredVersion[] {
  const out: StoredVersion[] = [];
  const live = own(env.secrets, ref.key);
  let n = live ? (live.version ?? 1) - 1 : newestVersion(state, env, ref);
  for (; n > 0; n--) {
    const version = state.versions.get(versionId(ref.project, ref.environment, ref.key, n));
    if (!version) break;
    out.push(version);
  }
  return out;
}

/** The keys of an environment that have a history: its live secrets and those in its trash. */
export function keysWithHistory(state: State, env: StoredEnvironment, project: string): string[] {
  const keys = new Set(Object.keys(env.secrets));
  for (const t of state.trash.values()) if (t.project === project && t.environment === env.slug) keys.add(t.key);
  return [...keys];
}

/** Keeps the live value of `ref` as a version record, ended now by `endedBy`. */
function keepLive(
  state: State,
  touched: Touched,
  ref: SecretRef,
  live: StoredSecret,
  endedBy: StoredVersion['endedBy'],
  now: number,
): number {
  const version = live.version ?? 1;
  const id = versionId(ref.project, ref.environment, ref.key, version);
  state.versions.set(id, {
    id,
    // Named one by one: a ref may be a request's arguments, which carry the new value in clear.
    project: ref.project,
    environment: ref.environment,
    key: ref.key,
    version,
    sealed: live.sealed,
    at: live.updatedAt,
    change: live.change ?? 'set',
    ...(live.from !== undefined ? { from: live.from } : {}),
    ...(live.rotatedByDatabase !== undefined ? { rotatedByDatabase: live.rotatedByDatabase } : {}),
    ...(live.rotatedUser !== undefined ? { rotatedUser: live.rotatedUser } : {}),
    endedAt: now,
    endedBy,
  });
  touched.record('version', id);
  return version;
}

/**
 * Sets a new live value for `ref`: the one it replaces becomes a version, a trash entry of the
 * key is dropped (the key is live again, its deleted value stays in the history). Returns the new
 * version number and whether the key had no live value.
 */
export function replaceValue(
  state: State,
  touched: Touched,
  env: StoredEnvironment,
  ref: SecretRef,
  next: NewValue,
  now: number,
): { version: number; created: boolean } {
  const live = own(env.secrets, ref.key);
  const version = newestVersion(state, env, ref) + 1;
  if (live) keepLive(state, touched, ref, live, next.change, now);
  const trashId = secretId(ref.project, ref.environment, ref.key);
  if (state.trash.delete(trashId)) touched.record('trash', trashId);
  env.secrets[ref.key] = {
    sealed: next.sealed,
    updatedAt: now,
    version,
    change: next.change,
    ...(next.from !== undefined ? { from: next.from } : {}),
    ...(next.rotatedByDatabase !== undefined ? { rotatedByDatabase: next.rotatedByDatabase } : {}),
    ...(next.rotatedUser !== undefined ? { rotatedUser: next.rotatedUser } : {}),
    ...(next.rotationPending ? { rotationPending: true } : {}),
  };
  touched.secret(ref.project, ref.environment, ref.key);
  pruneVersions(state, touched, env, ref, now);
  return { version, created: !live };
}

/** Moves the live value of `ref` to the trash: it becomes the newest version, named by a trash entry. */
export function trashValue(
  state: State,
  touched: Touched,
  env: StoredEnvironment,
  ref: SecretRef,
  now: number,
): StoredTrash {
  const live = own(env.secrets, ref.key)!;
  const version = keepLive(state, touched, ref, live, 'delete', now);
  delete env.secrets[ref.key];
  touched.secret(ref.project, ref.environment, ref.key);
  const id = secretId(ref.project, ref.environment, ref.key);
  const entry: StoredTrash = {
    id,
    project: ref.project,
    environment: ref.environment,
    key: ref.key,
    version,
    deletedAt: now,
  };
  state.trash.set(id, entry);
  touched.record('trash', id);
  pruneVersions(state, touched, env, ref, now);
  return entry;
}

/** Destroys a key for good: its live value, its trash entry and every version. Returns how many versions went. */
export function purgeKey(state: State, touched: Touched, env: StoredEnvironment, ref: SecretRef): number {
  const versions = versionsOf(state, env, ref);
  for (const v of versions) {
    state.versions.delete(v.id);
    touched.record('version', v.id);
  }
  if (own(env.secrets, ref.key)) {
    delete env.secrets[ref.key];
    touched.secret(ref.project, ref.environment, ref.key);
  }
  const id = secretId(ref.project, ref.environment, ref.key);
  if (state.trash.delete(id)) touched.record('trash', id);
  return versions.length;
}

/**
 * Whether the `index`-th earlier version (0 = newest), ended at `endedAt`, is kept: the newest
 * {@link HISTORY_MIN_VERSIONS} always, younger ones up to {@link HISTORY_MAX_VERSIONS}.
 */
function kept(index: number, endedAt: number, now: number): boolean {
  if (index >= HISTORY_MAX_VERSIONS) return false;
  return index < HISTORY_MIN_VERSIONS || now - endedAt < HISTORY_KEEP_MS;
}

/** Drops the versions of `ref` past their keep time; versions end in order, so these are the oldest. */
export function pruneVersions(
  state: State,
  touched: Touched,
  env: StoredEnvironment,
  ref: SecretRef,
  now: number,
): number {
  const versions = versionsOf(state, env, ref);
  let dropped = 0;
  versions.forEach((v, i) => {
    if (kept(i, v.endedAt, now)) return;
    state.versions.delete(v.id);
    touched.record('version', v.id);
    dropped++;
  });
  return dropped;
}

/** What {@link dropExpired} removed. */
export interface Expired {
  /** Trash entries past {@link TRASH_KEEP_MS}, purged with their history. */
  purged: StoredTrash[];
  /** Versions past their keep time. */
  versions: number;
}

/** Maintenance: trash past its 30 days goes with its history; versions past their keep time go. */
export function dropExpired(state: State, touched: Touched, now: number): Expired {
  const purged: StoredTrash[] = [];
  for (const entry of [...state.trash.values()]) {
    if (now - entry.deletedAt < TRASH_KEEP_MS) continue;
    const project = own(state.projects, entry.project);
    const env = project && own(project.environments, entry.environment);
    if (env && !own(env.secrets, entry.key)) purgeKey(state, touched, env, entry);
    else {
      state.trash.delete(entry.id);
      touched.record('trash', entry.id);
    }
    purged.push(entry);
  }
  const byKey = new Map<string, SecretRef>();
  for (const v of state.versions.values()) {
    byKey.set(secretId(v.project, v.environment, v.key), {
      project: v.project,
      environment: v.environment,
      key: v.key,
    });
  }
  let versions = 0;
  for (const ref of byKey.values()) {
    const project = own(state.projects, ref.project);
    const env = project && own(project.environments, ref.environment);
    if (env) versions += pruneVersions(state, touched, env, ref, now);
  }
  return { purged, versions };
}
