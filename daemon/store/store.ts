import fs from 'node:fs';
import path from 'node:path';
import { Low } from 'lowdb';
import { BellaError } from '../api';
import { AuditLog, type AuditInput } from './audit-log';
import { deriveKeys, loadMasterKey, type KeyRing } from './crypto';
import { DurableJsonFile } from './durable-file';
import { ensurePrivateDir, removeStaleTemps, writeFileDurable, writeFileDurableSync } from './files';
import { emptyState, migrations, SCHEMA_VERSION, type State } from './schema';

/** The files of a data directory. */
export function dataFiles(home: string) {
  return {
    state: path.join(home, 'state.json'),
    masterKey: path.join(home, 'master.key'),
    audit: path.join(home, 'audit.log'),
    leaseArchive: path.join(home, 'leases-archive.jsonl'),
    backups: path.join(home, 'backups'),
  };
}

/** What a transaction returns: its result, the audit entries that must be written first. */
export interface TxResult<R> {
  result: R;
  audit: AuditInput[];
}

interface Batch {
  promise: Promise<void>;
  audit: AuditInput[];
  discarded: Error | null;
}

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

  private constructor(
    readonly home: string,
    private readonly db: Low<State>,
    private readonly adapter: DurableJsonFile<State>,
    readonly audit: AuditLog,
    readonly keys: KeyRing,
  ) {}

  /** The live state. Read it freely; change it only inside {@link transact}. */
  get state(): State {
    return this.db.data;
  }

  /** Number of state commits written so far. */
  get commits(): number {
    return this.adapter.commits;
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
    const adapter = new DurableJsonFile<State>(files.state, (text) => parseState(text, files.state, files.backups));
    const db = new Low<State>(adapter, emptyState());
    await db.read();
    const fresh = !fs.existsSync(files.state);
    const hasData = !fresh || fs.existsSync(files.audit);
    const keys = deriveKeys(loadMasterKey(files.masterKey, !hasData));
    if (fresh) writeFileDurableSync(files.state, JSON.stringify(db.data));
    const audit = AuditLog.open(files.audit, keys.auditKey, now);
    return new Store(home, db, adapter, audit, keys);
  }

  /**
   * Applies `change` to the state and makes it durable with its audit entries. `change` must
   * validate before it mutates: if it throws, nothing has changed.
   */
  async transact<R>(change: (state: State) => TxResult<R>): Promise<R> {
    const { result, audit } = change(this.db.data);
    const batch = (this.batch ??= this.startBatch());
    batch.audit.push(...audit);
    await batch.promise;
    return result;
  }

  private startBatch(): Batch {
    const batch: Batch = { promise: Promise.resolve(), audit: [], discarded: null };
    batch.promise = this.inFlight
      .catch(() => undefined)
      .then(async () => {
        if (this.batch === batch) this.batch = null;
        if (batch.discarded) throw batch.discarded;
        // Snapshot now: exactly this batch's changes, not those of transactions arriving meanwhile.
        const snapshot = JSON.stringify(this.db.data);
        try {
          // Audit first: a change that cannot be audited is never committed (fail closed).
          await this.audit.append(batch.audit);
          await this.adapter.writeText(snapshot);
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

  /** Puts the in-memory state back to what is on disk. */
  private async reload(): Promise<void> {
    await this.db.read();
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
    const text = await fs.promises.readFile(files.state);
    await writeFileDurable(target, text);
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
    this.audit.close();
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
  const state = raw as unknown as State;
  if (typeof state.projects !== 'object' || typeof state.leases !== 'object' || typeof state.settings !== 'object') {
    throw new BellaError(
      'unavailable',
      `${file} is missing parts of its state; bella will not overwrite it: ${advice}`,
    );
  }
  return state;
}
