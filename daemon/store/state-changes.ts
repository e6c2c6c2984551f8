import type { Change, EnvironmentFields, ProjectFields } from './record-validation';
import { FLAT_RECORDS, own, type FlatKind, type State, type StoredEnvironment, type StoredProject } from './schema';

// A transaction's changes as journal records, and records applied back to a state.

const NONE: ReadonlySet<string> = new Set();
/** The kinds of flat records, in the order a commit writes them (no list made per commit). */
const FLAT_KINDS = Object.keys(FLAT_RECORDS) as FlatKind[];
const NONE_MAP: ReadonlyMap<string, never> = new Map<string, never>();

/** Which records a transaction changed, so its commit writes exactly those. */
export class Touched {
  // Each collection is made when its first record is touched: most transactions (an issue, a
  // read's audit entry) touch only flat records, and one Touched is made per transaction.
  private _projects: Set<string> | null = null;
  private _environments: Map<string, [string, string]> | null = null;
  private _secrets: Map<string, [string, string, string]> | null = null;
  /** Flat records by kind (see FLAT_RECORDS); a kind's set is made when its first record is touched. */
  readonly flat: { [K in FlatKind]?: Set<string> } = {};
  settings = false;

  get projects(): ReadonlySet<string> {
    return this._projects ?? NONE;
  }

  get environments(): ReadonlyMap<string, [string, string]> {
    return this._environments ?? NONE_MAP;
  }

  get secrets(): ReadonlyMap<string, [string, string, string]> {
    return this._secrets ?? NONE_MAP;
  }

  /** A project's own fields (name…) were set, or the project was created or deleted. */
  project(p: string): this {
    (this._projects ??= new Set()).add(p);
    return this;
  }

  /** An environment's own fields were set (policy, keys…), or it was created or deleted. */
  environment(p: string, e: string): this {
    (this._environments ??= new Map()).set(`${p}\0${e}`, [p, e]);
    return this;
  }

  /** A secret was set, replaced or deleted. */
  secret(p: string, e: string, k: string): this {
    (this._secrets ??= new Map()).set(`${p}\0${e}\0${k}`, [p, e, k]);
    return this;
  }

  /** A lease was issued or changed, or left the state. */
  lease(id: string): this {
    return this.record('lease', id);
  }

  /** A flat record (channel, outbox item, delivery, secret version, trash entry, CI replay key…) was added, changed or removed. */
  record(kind: FlatKind, id: string): this {
    (this.flat[kind] ??= new Set<string>()).add(id);
    return this;
  }

  /** The settings changed. */
  setting(): this {
    this.settings = true;
    return this;
  }

  /** Everything `other` touched. */
  merge(other: Touched): void {
    for (const p of other.projects) this.project(p);
    for (const [p, e] of other.environments.values()) this.environment(p, e);
    for (const [p, e, k] of other.secrets.values()) this.secret(p, e, k);
    for (const kind of Object.keys(other.flat) as FlatKind[]) for (const id of other.flat[kind]!) this.record(kind, id);
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

/**
 * Marks a removed environment and every secret it held, so the commit deletes them all; its
 * secrets' earlier versions and trash entries leave the state with it.
 */
export function touchEnvironmentRemoval(state: State, touched: Touched, p: string, env: StoredEnvironment): void {
  touched.environment(p, env.slug);
  for (const k of Object.keys(env.secrets)) touched.secret(p, env.slug, k);
  for (const kind of ['version', 'trash'] as const) {
    const records = state[FLAT_RECORDS[kind]];
    for (const [id, record] of records) {
      if (record.project !== p || record.environment !== env.slug) continue;
      records.delete(id);
      touched.record(kind, id);
    }
  }
}

function projectMeta(p: StoredProject): ProjectFields {
  return { slug: p.slug, name: p.name, createdAt: p.createdAt };
}

function environmentMeta(e: StoredEnvironment): EnvironmentFields {
  const { secrets: _secrets, ...meta } = e;
  return meta;
}

/**
 * The current value of every touched record, parents before children, built one at a time as the
 * journal serialises them (a commit ending 10,000 leases holds no copy of each lease): read them
 * at once, in the same synchronous step as the commit (the state may change after it).
 */
export function* changesOf(state: State, touched: Touched): Generator<Change> {
  for (const p of touched.projects) {
    const project = own(state.projects, p);
    yield { t: 'project', p, v: project ? projectMeta(project) : null };
  }
  for (const [p, e] of touched.environments.values()) {
    const env = environment(state, p, e);
    yield { t: 'env', p, e, v: env ? environmentMeta(env) : null };
  }
  for (const [p, e, k] of touched.secrets.values()) {
    const env = environment(state, p, e);
    const secret = env && own(env.secrets, k);
    yield { t: 'secret', p, e, k, v: secret ? { ...secret } : null };
  }
  for (const kind of FLAT_KINDS) {
    const ids = touched.flat[kind];
    if (!ids) continue;
    const records = state[FLAT_RECORDS[kind]] as Map<string, unknown>;
    for (const id of ids) yield { t: kind, id, v: records.get(id) ?? null } as Change;
  }
  if (touched.settings) yield { t: 'settings', v: state.settings };
}

/** Every record of a state, for a snapshot (leases only when `leases`: the lease table holds them otherwise). */
export function* recordsOf(state: State, leases = true): Generator<Change> {
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
  for (const kind of FLAT_KINDS) {
    if (kind === 'lease' && !leases) continue;
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
    default: {
      const records = state[FLAT_RECORDS[change.t]] as Map<string, unknown>;
      if (change.v === null) records.delete(change.id);
      else if (change.v.id !== change.id) return `${change.t} record ${change.id} holds ${change.v.id}`;
      else records.set(change.id, change.v);
      return null;
    }
  }
}

/**
 * Puts `from` into `into` as it is, keeping `into`'s objects (services hold references to the
 * state and its maps): after a failed commit, memory is put back to what is committed.
 */
export function refillState(into: State, from: State): void {
  into.projects = from.projects;
  into.settings = from.settings;
  // The lease table takes over the rows read back (no lease is built to copy it).
  into.leases.adopt(from.leases);
  for (const name of Object.values(FLAT_RECORDS)) {
    if (name === 'leases') continue;
    const records = into[name] as Map<string, unknown>;
    records.clear();
    for (const [id, record] of from[name] as Map<string, unknown>) records.set(id, record);
  }
}
