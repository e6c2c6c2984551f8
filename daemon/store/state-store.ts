import { BellaError, type AuditEntry, type AuditVerification } from '../api';
import type { AuditInput } from './audit/entry';
import type { IndexFilter } from './audit/segment-index';
import type { SafeClock } from './clock';
import type { KeyRing } from './crypto';
import type { CommitKind } from './disk-reserve';
import type { ArchivedLease } from './lease-archive';
import type { State, StoredLease } from './schema';
import type { Touched } from './state-changes';

/** What a transaction returns: its result and the audit entries written in the same commit. */
export interface TxResult<R> {
  result: R;
  audit: AuditInput[];
}

/** A page of audit entries, newest first, and the cursor of the next (older) page. */
export interface AuditPage {
  entries: AuditEntry[];
  nextCursor: number | null;
}

/** Ended leases moved out of the hot state. */
export interface LeaseArchiveStore {
  append(leases: StoredLease[]): Promise<void>;
  readAll(): ArchivedLease[];
}

/**
 * What the services need of a store, whichever keeps the state: the files of a data directory
 * (`Store`, the default) or PostgreSQL shared by several nodes (`PostgresStore`). The state lives
 * in memory; every change is committed with its audit entries before it is answered.
 */
export interface StateStore {
  /** The data directory: the key file, the socket, the listener's certificate, backups. */
  readonly home: string;
  readonly state: State;
  readonly keys: KeyRing;
  readonly clock: SafeClock;
  readonly archive: LeaseArchiveStore;
  /**
   * Applies `change` to the state and commits it with its audit entries. `change` must validate
   * before it mutates (if it throws, nothing has changed) and mark every record it changes in
   * `touched`, so the commit writes exactly those.
   */
  transact<R>(change: (state: State, touched: Touched) => TxResult<R>, kind?: CommitKind): Promise<R>;
  /** Writes audit entries that change no state (reads, refusals); resolves once they are durable. */
  record(audit: AuditInput[], kind?: CommitKind): Promise<void>;
  /** Notes that a lease's last use changed; persisted by the next commit or anchor. */
  markUsed(leaseId: string): void;
  /** Runs `listener` whenever memory was put back to what is committed (after a failed commit). */
  onReload(listener: () => void): void;
  /** Audit entries matching `filter`, newest first. */
  queryAudit(filter: IndexFilter, limit: number, before?: number): AuditPage | Promise<AuditPage>;
  /** Verifies the whole audit chain. */
  verifyAudit(): Promise<AuditVerification>;
  /** Writes a snapshot of the committed state into the data directory's backups/, keeping the newest `keep`. */
  backup(keep?: number, now?: Date): Promise<string>;
  /** When the newest snapshot in backups/ was written, or null. */
  newestBackupTime(): number | null;
  /** What needs the owner's attention now, one sentence each. */
  problems(): string[];
  close(): Promise<void>;
}

/** The refusal of changes that rested on an earlier one that could not be written. */
export function earlierChangeFailed(): BellaError {
  return new BellaError('unavailable', 'an earlier change could not be written, so this one was not either; retry');
}
