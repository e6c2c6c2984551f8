import fs from 'node:fs';
import { BellaError } from '../api';

/**
 * How a commit is let through when the disk is nearly full. `growth` (new leases, secrets,
 * projects…) needs room for a whole new snapshot; `read` (audited token reads) and `release`
 * (revoke, expire-all, expiry marking) may use the last reserve, and `release` its very end, so a
 * leaked token can always be stopped, and reads fail closed before stopping one could.
 */
export type CommitKind = 'growth' | 'read' | 'release';

/** Room kept free for `read` and `release` commits: below it, growth is refused. */
const CRITICAL_RESERVE = 1024 * 1024;
/** Reads stop below this, leaving the rest of the reserve to `release` commits. */
export const READ_RESERVE = CRITICAL_RESERVE / 2;
/** Growth also needs room for a new snapshot, at least this much. */
const MIN_SNAPSHOT_ROOM = 256 * 1024;
/** How long a free-space reading is trusted (minus what was written since). */
const STATFS_TTL_MS = 100;
/** A reading is also taken again once bella has written this much since the last one. */
const STATFS_REFRESH_BYTES = 8 * 1024 * 1024;
/**
 * Growth and release commits are admitted on a reading of the last {@link STATFS_TTL_MS} only while
 * it shows this much more than they need; closer to the reserve, each reads the disk afresh.
 */
export const CACHED_ADMISSION_HEADROOM = 64 * 1024 * 1024;

/** Free bytes available to bella on the filesystem holding `dir`. */
export type FreeSpaceReader = (dir: string) => number;

const statfsFree: FreeSpaceReader = (dir) => {
  const { bavail, bsize } = fs.statfsSync(dir);
  return bavail * bsize;
};

/**
 * The free space of the disk holding the data directory, and the reserve each {@link CommitKind}
 * must leave (revocation is always possible: growth is refused first).
 */
export class DiskReserve {
  private cache = { at: -Infinity, bytes: 0, spent: 0 };

  /**
   * @param home the data directory
   * @param stateBytes the bytes of the snapshot and journal now (a new snapshot needs as much)
   * @param readFree reads the free space (statfs; a stand-in in unit tests)
   */
  constructor(
    private readonly home: string,
    private readonly stateBytes: () => number,
    private readonly readFree: FreeSpaceReader = statfsFree,
  ) {}

  /** Refuses a commit of `kind` when the disk is too full for it, before anything changes. */
  admit(kind: CommitKind): void {
    const needed = kind === 'growth' ? this.growthReserve() : kind === 'read' ? READ_RESERVE : 0;
    // Reads (the hot path) may use a reading of the last few ms; so may growth and release while
    // that reading is far above what they need. Anything closer, and any refusal, reads the disk
    // afresh, so a disk that filled or emptied a moment ago is seen as it is.
    const headroom = kind === 'read' ? 0 : CACHED_ADMISSION_HEADROOM;
    const takenAt = this.cache.at;
    const seen = this.free();
    if (seen >= needed + headroom) return;
    // A reading taken just now is fresh already.
    const free = this.cache.at !== takenAt ? seen : this.free(true);
    if (free >= needed) return;
    throw this.refusal(kind, free, needed);
  }

  /** The refusal of a commit of `kind` on a disk with `free` bytes where it needs `needed`. */
  refusal(kind: CommitKind, free: number, needed: number): BellaError {
    return new BellaError(
      'unavailable',
      kind === 'read'
        ? `the disk holding ${this.home} is full (ENOSPC: ${Math.floor(free / 1024)} KiB free): reads are refused so that revoking stays possible; free some space`
        : `the disk holding ${this.home} is full (ENOSPC: ${Math.floor(free / 1024)} KiB free, bella keeps ${Math.ceil(needed / 1024)} KiB free for revocations and its state): free some space and retry; nothing was changed`,
    );
  }

  /** What growth must leave free: the reserve and room for a new snapshot. */
  growthReserve(): number {
    return CRITICAL_RESERVE + Math.max(MIN_SNAPSHOT_ROOM, this.stateBytes());
  }

  /**
   * Free bytes: a reading of the last {@link STATFS_TTL_MS} ms (minus what bella wrote since, and
   * at most {@link STATFS_REFRESH_BYTES} of that), or a fresh one.
   */
  free(fresh = false): number {
    const now = performance.now();
    if (fresh || now - this.cache.at > STATFS_TTL_MS || this.cache.spent > STATFS_REFRESH_BYTES) {
      this.cache = { at: now, bytes: this.readFree(this.home), spent: 0 };
    }
    return this.cache.bytes;
  }

  /** Counts bytes written against the cached free space, so admission stays conservative. */
  spent(bytes: number): void {
    this.cache.bytes -= bytes;
    this.cache.spent += bytes;
  }
}
