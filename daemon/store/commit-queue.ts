/**
 * The order of the store's writes: groups of commit items, one group at a time, each holding
 * everything that arrived while the one before was written (group commit), and snapshot jobs
 * (compaction, backups) run between groups. It decides when; the store's `commit` decides what
 * a group writes.
 */
export class CommitQueue<I extends { touched: unknown }> {
  /** Items waiting for the next commit: whatever arrives while one is being written. */
  private pending: I[] = [];
  private running = false;
  private idleWaiters: Array<() => void> = [];
  /** Snapshot writes (compaction, backups), run between commits at a quiescent instant. */
  private jobs: Array<() => Promise<void>> = [];
  private _gate: Promise<void> | null = null;

  /**
   * @param commit writes one group; never rejects (it answers each item itself)
   * @param afterGroup runs after each group, before the next (the compaction check)
   */
  constructor(
    private readonly commit: (group: I[]) => Promise<void>,
    private readonly afterGroup: () => Promise<void> | void,
  ) {}

  /** While a quiescent instant is being taken: new transactions wait for it before applying. */
  get gate(): Promise<void> | null {
    return this._gate;
  }

  /** Queues an item for the next group. */
  push(item: I): void {
    this.pending.push(item);
    if (!this.running) void this.run();
  }

  /** Takes the waiting items that change state out of the queue (memory was put back under them). */
  dropChanges(): I[] {
    const waiting = this.pending;
    this.pending = waiting.filter((item) => !item.touched);
    return waiting.filter((item) => item.touched);
  }

  /** The commit pipeline: one group at a time, each holding everything that arrived meanwhile. */
  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.pending.length || this.jobs.length) {
        if (this.pending.length) {
          const items = this.pending;
          this.pending = [];
          await this.commit(items);
          const after = this.afterGroup();
          if (after) await after;
        }
        const job = this.jobs.shift();
        if (job) await job();
      }
    } finally {
      this.running = false;
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Resolves once nothing is waiting to be committed. */
  idle(): Promise<void> {
    if (!this.running && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Runs `serialise` at a quiescent instant: new transactions wait (briefly) while those already
   * applied to memory commit, so what it captures is exactly the committed state. `serialise`
   * must capture synchronously; new transactions proceed while its promise completes.
   */
  async quiescent<T>(serialise: () => Promise<T>): Promise<T> {
    let open!: () => void;
    this._gate = new Promise<void>((resolve) => (open = resolve));
    try {
      while (this.pending.some((item) => item.touched)) {
        const items = this.pending;
        this.pending = [];
        await this.commit(items);
      }
      const done = serialise();
      this._gate = null;
      open();
      return await done;
    } finally {
      this._gate = null;
      open();
    }
  }

  /** Runs `job` in the pipeline, between commits. */
  exclusive<T>(job: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.jobs.push(() => job().then(resolve, reject));
      if (!this.running) void this.run();
    });
  }
}
