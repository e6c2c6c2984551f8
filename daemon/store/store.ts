import fs from 'node:fs';
import path from 'node:path';
import { Low } from 'lowdb';
import { BellaError } from '../api';
import { AuditLog, type AuditInput } from './audit-log';
import { deriveKeys, loadMasterKey, type KeyRing } from './crypto';
import { DurableJsonFile } from './durable-file';
import { ensurePrivateDir, removeStaleTemps, writeFileDurable, writeFileDurableSync } from '../base/node/files';
import { Journal, type JournalEntry } from './journal';
import { emptyState, migrations, own, SCHEMA_VERSION, serializeState, type State, type StoredLease } from './schema';

/** The files of a data directory. */
export function dataFiles(home: string) {
  return {
    state: path.join(home, 'state.json'),
    masterKey: path.join(home, 'master.key'),
    journal: path.join(home, 'state.journal'),
    audit: path.join(home, 'audit.log'),
    leaseArchive: path.join(home, 'leases-archive.jsonl'),
    backups: path.join(home, 'backups'),
  };
}

/** The records a transaction changed, so its commit journals only them. */
export interface Touched {
  leases?: Iterable<string>;
  projects?: Iterable<string>;
  settings?: boolean;
}

/**
 * What a transaction returns: its result, the audit entries that must be written first, and the
 * records it touched (omitted: the commit rewrites the whole snapshot).
 */
export interface TxResult<R> {
  result: R;
  audit: AuditInput[];
  touched?: Touched;
}

interface Batch {
  promise: Promise<void>;
  audit: AuditInput[];
  /** null once a transaction did not say what it touched: the batch writes a snapshot. */
  touched: { leases: Set<string>; projects: Set<string>; settings: boolean } | null;
  discarded: Error | null;
}

/** Commits are refused when less than this (or room for a new snapshot) is free on the disk. */
const MIN_FREE_BYTES = 256 * 1024;

/** The journal is folded into a new snapshot once it outgrows this, or half the snapshot. */
const JOURNAL_MIN_COMPACT_BYTES = 8 * 1024 * 1024;

/** How many daily snapshots `backups/` keeps. */
export const DEFAULT_BACKUPS_KEPT = 7;

/**
 * The daemon's store: state in lowdb over a durable adapter, the audit log, and the keys.
 * Changes go through {@link transact}: the change is applied in memory, then its audit entries
 * are written (fail closed), then the state is committed; the caller is answered only after
 * both are on disk. A failed commit puts the state back to what is on disk.
 */
export class Store {
  private batch: Batch | null = null;
  private inFlight: Promise<void> = Promise.resolve();
  private readonly reloadListeners: Array<() => void> = [];
  private journalSeq = 0;
  private snapshotBytes = 0;

  private constructor(
    readonly home: string,
    private readonly db: Low<State>,
    private readonly adapter: DurableJsonFile<State>,
    private readonly journal: Journal,
    readonly audit: AuditLog,
    readonly keys: KeyRing,
  ) {}

  /** The live state. Read it freely; change it only inside {@link transact}. */
  get state(): State {
    return this.db.data;
  }

  /**
   * Opens a data directory, creating it on first use. Refuses (and overwrites nothing) when the
   * state file does not parse, comes from a newer bella, or its master key is missing.
   */
  static async open(home: string, now: () => number = Date.now): Promise<Store> {
    ensurePrivateDir(home);
    const files = dataFiles(home);
    ensurePrivateDir(files.backups);
    removeStaleTemps(files.state);
    const adapter = new DurableJsonFile<State>(
      files.state,
      (text) => parseState(text, files.state, files.backups),
      serializeState,
    );
    const db = new Low<State>(adapter, emptyState());
    const fresh = !fs.existsSync(files.state);
    const hasData = !fresh || fs.existsSync(files.audit);
    const keys = deriveKeys(loadMasterKey(files.masterKey, !hasData));
    if (fresh) writeFileDurableSync(files.state, serializeState(db.data));
    const journal = Journal.open(files.journal);
    const audit = AuditLog.open(files.audit, keys.auditKey, now);
    const store = new Store(home, db, adapter, journal, audit, keys);
    await store.load();
    return store;
  }

  /** Reads the snapshot and replays the journal entries it does not contain yet. */
  private async load(): Promise<void> {
    await this.db.read();
    const state = this.db.data;
    this.snapshotBytes = fs.statSync(this.adapter.file).size;
    this.journalSeq = state.journal ?? 0;
    const entries = this.journal.read((line) => {
      throw new BellaError(
        'unavailable',
        `${this.journal.file} is damaged at line ${line}; bella will not overwrite it: restore the data directory from a backup`,
      );
    });
    for (const entry of entries) {
      if (entry.seq <= this.journalSeq) continue;
      for (const [id, lease] of Object.entries(entry.leases ?? {})) {
        if (lease === null) state.leases.delete(id);
        else state.leases.set(id, lease as StoredLease);
      }
      replay(state.projects, entry.projects);
      if (entry.settings !== undefined) state.settings = entry.settings as State['settings'];
      this.journalSeq = entry.seq;
    }
  }

  /**
   * Applies `change` to the state and makes it durable with its audit entries. `change` must
   * validate before it mutates: if it throws, nothing has changed.
   */
  async transact<R>(change: (state: State) => TxResult<R>): Promise<R> {
    const { result, audit, touched } = change(this.db.data);
    const batch = (this.batch ??= this.startBatch());
    batch.audit.push(...audit);
    if (!touched) batch.touched = null;
    else if (batch.touched) {
      for (const id of touched.leases ?? []) batch.touched.leases.add(id);
      for (const slug of touched.projects ?? []) batch.touched.projects.add(slug);
      batch.touched.settings ||= touched.settings === true;
    }
    await batch.promise;
    return result;
  }

  private startBatch(): Batch {
    const batch: Batch = {
      promise: Promise.resolve(),
      audit: [],
      touched: { leases: new Set(), projects: new Set(), settings: false },
      discarded: null,
    };
    batch.promise = this.inFlight
      .catch(() => undefined)
      .then(async () => {
        if (this.batch === batch) this.batch = null;
        if (batch.discarded) throw batch.discarded;
        // Serialise now: exactly this batch's changes, not those of transactions arriving meanwhile.
        const write = this.serialise(batch);
        try {
          await this.ensureSpace();
        } catch (err) {
          if (this.batch) this.batch.discarded = err as Error;
          await this.reload();
          throw err;
        }
        try {
          // Audit first: a change that cannot be audited is never committed (fail closed).
          await this.audit.append(batch.audit);
          await write();
        } catch (err) {
          const failure = err instanceof BellaError ? err : storageError(err, this.adapter.file);
          // Changes applied after this commit was serialised are undone by the reload too.
          if (this.batch) this.batch.discarded = failure;
          await this.reload();
          throw failure;
        }
      });
    this.inFlight = batch.promise;
    return batch;
  }

  /**
   * Serialises a batch synchronously and returns the write that makes it durable: one journal
   * line with the records it touched, or a whole snapshot (which empties the journal) when a
   * transaction did not say what it touched or the journal has grown too large.
   */
  private serialise(batch: Batch): () => Promise<void> {
    const state = this.db.data;
    const seq = this.journalSeq + 1;
    const compact = this.journal.bytes > Math.max(JOURNAL_MIN_COMPACT_BYTES, this.snapshotBytes / 2);
    if (batch.touched && !compact) {
      const { leases, projects, settings } = batch.touched;
      if (leases.size === 0 && projects.size === 0 && !settings) return async () => undefined;
      const entry: JournalEntry = { seq };
      if (leases.size) entry.leases = Object.fromEntries([...leases].map((id) => [id, state.leases.get(id) ?? null]));
      if (projects.size) entry.projects = pick(state.projects, projects);
      if (settings) entry.settings = state.settings;
      const line = JSON.stringify(entry);
      return async () => {
        await this.journal.appendLine(line);
        this.journalSeq = seq;
      };
    }
    state.journal = seq;
    const text = serializeState(state);
    return async () => {
      await this.adapter.writeText(text);
      this.journalSeq = seq;
      this.snapshotBytes = text.length;
      await this.journal.reset();
    };
  }

  /**
   * Refuses a commit while the disk is nearly full: appends could still land in the free tail of
   * allocated pages, so only a reserve (room for a whole new snapshot) keeps "disk full" one
   * clear, predictable refusal instead of some writes passing and others failing.
   */
  private async ensureSpace(): Promise<void> {
    const { bavail, bsize } = await fs.promises.statfs(this.home);
    const free = bavail * bsize;
    const reserve = Math.max(MIN_FREE_BYTES, this.snapshotBytes + this.journal.bytes);
    if (free < reserve) {
      throw new BellaError(
        'unavailable',
        `the disk holding ${this.home} is full (ENOSPC: ${Math.floor(free / 1024)} KiB free, bella keeps ${Math.ceil(reserve / 1024)} KiB free to write its state safely): free some space and retry; nothing was changed`,
      );
    }
  }

  /** Puts the in-memory state back to what is on disk. */
  private async reload(): Promise<void> {
    await this.load();
    for (const listener of this.reloadListeners) listener();
  }

  /** Runs `listener` whenever the state was put back from disk after a failed commit. */
  onReload(listener: () => void): void {
    this.reloadListeners.push(listener);
  }

  /** Writes a snapshot of the committed state into backups/ and keeps the newest `keep`. */
  async backup(keep = DEFAULT_BACKUPS_KEPT, now = new Date()): Promise<string> {
    await this.inFlight.catch(() => undefined);
    const files = dataFiles(this.home);
    const name = `state-${now.toISOString().replace(/[:.]/g, '-')}.json`;
    const target = path.join(files.backups, name);
    // The journal's entries are part of the committed state: the snapshot includes them.
    await writeFileDurable(target, serializeState({ ...this.db.data, journal: this.journalSeq }));
    const all = listBackups(files.backups);
    for (const old of all.slice(0, Math.max(0, all.length - keep))) fs.rmSync(path.join(files.backups, old));
    return target;
  }

  /** When the newest snapshot in backups/ was written, or null. */
  newestBackupTime(): number | null {
    const dir = dataFiles(this.home).backups;
    const newest = listBackups(dir).at(-1);
    return newest ? fs.statSync(path.join(dir, newest)).mtimeMs : null;
  }

  /** Waits for pending commits and closes the files. */
  async close(): Promise<void> {
    await this.inFlight.catch(() => undefined);
    this.journal.close();
    this.audit.close();
  }
}

function pick<T>(records: Record<string, T>, ids: Set<string>): Record<string, T | null> {
  const out: Record<string, T | null> = {};
  for (const id of ids) out[id] = own(records, id) ?? null;
  return out;
}

function replay<T>(records: Record<string, T>, changes: Record<string, unknown> | undefined): void {
  for (const [id, value] of Object.entries(changes ?? {})) {
    if (value === null) delete records[id];
    else records[id] = value as T;
  }
}

function listBackups(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => n.startsWith('state-') && n.endsWith('.json'))
    .sort();
}

function storageError(err: unknown, file: string): BellaError {
  const code = (err as NodeJS.ErrnoException).code;
  const hint = code === 'ENOSPC' ? 'the disk is full; free some space and retry' : 'check the data directory and retry';
  return new BellaError('unavailable', `cannot write ${file} (${code ?? String(err)}): ${hint}; nothing was changed`);
}

function parseState(text: string, file: string, backups: string): State {
  const lastGood = listBackups(backups).at(-1);
  const advice = lastGood
    ? `the last good backup is ${path.join(backups, lastGood)}; copy it over ${file} to recover`
    : 'no backup exists yet; restore the file from your own backups';
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('not an object');
  } catch {
    throw new BellaError(
      'unavailable',
      `${file} is damaged (it does not parse); bella will not overwrite it: ${advice}`,
    );
  }
  const version = raw.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new BellaError('unavailable', `${file} has no valid schema version; bella will not overwrite it: ${advice}`);
  }
  if (version > SCHEMA_VERSION) {
    throw new BellaError(
      'unavailable',
      `${file} was written by a newer bella (schema ${version}, this one knows ${SCHEMA_VERSION}): upgrade bella; the file was left untouched`,
    );
  }
  for (let v = version; v < SCHEMA_VERSION; v++) raw = migrations[v - 1]!(raw);
  if (typeof raw.projects !== 'object' || !Array.isArray(raw.leases) || typeof raw.settings !== 'object') {
    throw new BellaError(
      'unavailable',
      `${file} is missing parts of its state; bella will not overwrite it: ${advice}`,
    );
  }
  const leases = new Map((raw.leases as StoredLease[]).map((lease) => [lease.id, lease]));
  return { ...(raw as unknown as State), leases };
}
