import type { LeaseStatus } from '../api';
import type { LeaseTable } from './lease-memory';
import type { LeaseDatabase, StoredLease } from './schema';

/** The fields of a lease that scans over many leases read, without building the lease. */
export type LeaseFields = Pick<
  StoredLease,
  'id' | 'project' | 'environment' | 'status' | 'issuedAt' | 'expiresAt' | 'renewedAt' | 'endedAt' | 'warnedFor' | 'by'
>;

/**
 * A cursor over the table's rows ({@link LeaseTable.rows}): one object moved from row to row, so it
 * is valid only until the scan moves on; `lease()` builds the lease it stands on.
 */
export class LeaseRow implements LeaseFields {
  /** @internal The row it stands on. */
  r = -1;
  constructor(private readonly t: LeaseTable) {}
  /** The row it stands on ({@link LeaseTable.rowOf}). */
  get row(): number {
    return this.r;
  }
  get id(): string {
    return this.t.field(this.r, 'id');
  }
  get project(): string {
    return this.t.dicts.project.values[this.t.dictOf.project[this.r]!]!;
  }
  get environment(): string {
    return this.t.dicts.environment.values[this.t.dictOf.environment[this.r]!]!;
  }
  get status(): LeaseStatus {
    return this.t.dicts.status.values[this.t.dictOf.status[this.r]!] as LeaseStatus;
  }
  get issuedAt(): number {
    return this.t.num.issuedAt[this.r]!;
  }
  get expiresAt(): number {
    return this.t.num.expiresAt[this.r]!;
  }
  get renewedAt(): number | null {
    return nullable(this.t.num.renewedAt[this.r]!);
  }
  get endedAt(): number | null {
    return nullable(this.t.num.endedAt[this.r]!);
  }
  get warnedFor(): number | null {
    return nullable(this.t.num.warnedFor[this.r]!);
  }
  get by(): string | undefined {
    const v = this.t.dictOf.by[this.r]!;
    return v < 0 ? undefined : this.t.dicts.by.values[v];
  }
  get scope(): readonly string[] {
    return this.t.dicts.scope.values[this.t.dictOf.scope[this.r]!]!;
  }
  get reason(): string {
    return this.t.field(this.r, 'reason');
  }
  /** The database login role the lease holds, if any. */
  get database(): LeaseDatabase | undefined {
    return this.t.field(this.r, 'database');
  }
  /** The lease this row holds, as {@link LeaseTable.get} builds it. */
  lease(): StoredLease {
    return this.t.field(this.r, 'lease');
  }
}

/** A nullable number column's value (-1 stands for null). */
export const nullable = (v: number): number | null => (v < 0 ? null : v);
