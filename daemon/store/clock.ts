/** Where a {@link SafeClock} reads time: the wall clock and a monotonic clock, both in ms. */
export interface TimeSource {
  wall(): number;
  monotonic(): number;
}

/** The machine's clocks. */
export const systemTime: TimeSource = { wall: () => Date.now(), monotonic: () => performance.now() };

/**
 * The daemon's clock for expiry decisions: wall time that never runs backwards. It starts at the
 * persisted high-water mark (or the wall clock, if later) and advances with the monotonic clock;
 * a forward step of the wall clock is followed (leases may end early: fail safe), a backward step
 * never is, so an expired lease is never revived by setting the clock back, even across restarts.
 */
export class SafeClock {
  private last: number;
  private lastMono: number;

  constructor(
    mark: number,
    private readonly source: TimeSource = systemTime,
  ) {
    this.last = Math.max(mark, source.wall());
    this.lastMono = source.monotonic();
  }

  /** Now, in whole ms since the epoch: never less than any earlier answer or the persisted mark. */
  now(): number {
    const mono = this.source.monotonic();
    const t = Math.max(this.source.wall(), this.last + Math.max(0, mono - this.lastMono));
    this.last = t;
    this.lastMono = mono;
    return Math.floor(t);
  }
}
