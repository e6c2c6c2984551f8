import { unrefTimers } from '../base/node/timers';
/** One entry of a {@link DeadlineQueue}: a deadline `at` (ms since the epoch) for `id`. */
export interface Deadline<T> {
  id: string;
  at: number;
  value: T;
}

/** Work done by a {@link DeadlineQueue}, for tests that prove its complexity. */
export interface HeapCounters {
  comparisons: number;
  swaps: number;
}

/**
 * An indexed binary min-heap of deadlines keyed by a string id. `set` inserts or moves an id and
 * `delete` removes one in O(log n); `peek` is O(1). Equal deadlines come out in the order they
 * were last set.
 */
export class DeadlineQueue<T> {
  private readonly ids: string[] = [];
  private readonly ats: number[] = [];
  private readonly seqs: number[] = [];
  private readonly values: T[] = [];
  private readonly index = new Map<string, number>();
  private nextSeq = 0;
  /** Comparisons and swaps since construction or the last {@link resetCounters}. */
  readonly counters: HeapCounters = { comparisons: 0, swaps: 0 };

  /** Number of deadlines held. */
  get size(): number {
    return this.ids.length;
  }

  has(id: string): boolean {
    return this.index.has(id);
  }

  /** The deadline of `id`, if held. */
  get(id: string): Deadline<T> | undefined {
    const i = this.index.get(id);
    return i === undefined ? undefined : this.entry(i);
  }

  /** Inserts `id` or moves it to a new deadline (and value). */
  set(id: string, at: number, value: T): void {
    if (!Number.isFinite(at)) throw new RangeError(`deadline for ${id} is not a finite number: ${at}`);
    const seq = this.nextSeq++;
    const existing = this.index.get(id);
    if (existing === undefined) {
      const i = this.ids.length;
      this.ids.push(id);
      this.ats.push(at);
      this.seqs.push(seq);
      this.values.push(value);
      this.index.set(id, i);
      this.up(i);
      return;
    }
    this.ats[existing] = at;
    this.seqs[existing] = seq;
    this.values[existing] = value;
    this.fix(existing);
  }

  /** Removes `id`; returns whether it was held. */
  delete(id: string): boolean {
    const i = this.index.get(id);
    if (i === undefined) return false;
    const last = this.ids.length - 1;
    if (i !== last) this.swap(i, last);
    this.ids.pop();
    this.ats.pop();
    this.seqs.pop();
    this.values.pop();
    this.index.delete(id);
    if (i < this.ids.length) this.fix(i);
    return true;
  }

  /** The nearest deadline, without removing it. */
  peek(): Deadline<T> | undefined {
    return this.ids.length === 0 ? undefined : this.entry(0);
  }

  /** Removes and returns every deadline with `at <= now`, nearest first. */
  popDue(now: number): Array<Deadline<T>> {
    const due: Array<Deadline<T>> = [];
    while (this.ids.length > 0 && (this.ats[0] as number) <= now) {
      const top = this.entry(0);
      this.delete(top.id);
      due.push(top);
    }
    return due;
  }

  /** Removes everything. */
  clear(): void {
    this.ids.length = 0;
    this.ats.length = 0;
    this.seqs.length = 0;
    this.values.length = 0;
    this.index.clear();
  }

  resetCounters(): void {
    this.counters.comparisons = 0;
    this.counters.swaps = 0;
  }

  private entry(i: number): Deadline<T> {
    return { id: this.ids[i] as string, at: this.ats[i] as number, value: this.values[i] as T };
  }

  private less(a: number, b: number): boolean {
    this.counters.comparisons++;
    const atA = this.ats[a] as number;
    const atB = this.ats[b] as number;
    return atA < atB || (atA === atB && (this.seqs[a] as number) < (this.seqs[b] as number));
  }

  private swap(a: number, b: number): void {
    this.counters.swaps++;
    const ids = this.ids;
    const idA = ids[a] as string;
    const idB = ids[b] as string;
    ids[a] = idB;
    ids[b] = idA;
    [this.ats[a], this.ats[b]] = [this.ats[b] as number, this.ats[a] as number];
    [this.seqs[a], this.seqs[b]] = [this.seqs[b] as number, this.seqs[a] as number];
    [this.values[a], this.values[b]] = [this.values[b] as T, this.values[a] as T];
    this.index.set(idB, a);
    this.index.set(idA, b);
  }

  private fix(i: number): void {
    if (i > 0 && this.less(i, (i - 1) >> 1)) this.up(i);
    else this.down(i);
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.ids.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && this.less(right, left) ? right : left;
      if (!this.less(child, i)) return;
      this.swap(i, child);
      i = child;
    }
  }
}

/** setTimeout stores its delay as a signed 32-bit integer; longer delays fire at once. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** What a {@link DeadlineScheduler} needs from the outside world (a fake clock in tests). */
export interface DeadlineSchedulerOptions<T> {
  /** Current time, ms since the epoch. Default `Date.now`. */
  now?(): number;
  /** Arms a one-shot timer. Default `setTimeout`, unref'd so it never keeps the process alive. */
  setTimer?(fn: () => void, ms: number): unknown;
  /** Disarms a timer returned by `setTimer`. Default `clearTimeout`. */
  clearTimer?(handle: unknown): void;
  /** Called once per timer firing with every deadline that is due, nearest first. */
  onDue(items: Array<Deadline<T>>): void;
  /** Called if `onDue` throws; the scheduler keeps running. Default: `console.error`. */
  onError?(error: unknown): void;
  /**
   * Longest single timer delay. Default and upper bound 2^31-1 ms. A shorter cap (e.g. 60 s)
   * makes due deadlines fire soon after a suspend/resume or a wall-clock jump, at the cost of
   * one wake-up per cap.
   */
  maxDelayMs?: number;
}

/**
 * Deadlines over a {@link DeadlineQueue} with exactly one pending timer, armed for the nearest
 * deadline. When it fires, everything due is handed to `onDue` as one batch and the timer is
 * re-armed for the next deadline.
 */
export class DeadlineScheduler<T> {
  private readonly queue = new DeadlineQueue<T>();
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  private readonly onDue: (items: Array<Deadline<T>>) => void;
  private readonly onError: (error: unknown) => void;
  private readonly maxDelayMs: number;
  private timer: unknown = undefined;
  private armed = false;
  private armedAt = Number.NaN;
  private firing = false;
  private stopped = false;

  constructor(options: DeadlineSchedulerOptions<T>) {
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? unrefTimers.setTimer;
    this.clearTimer = options.clearTimer ?? unrefTimers.clearTimer;
    this.onDue = options.onDue;
    this.onError = options.onError ?? ((error) => console.error('deadline handler failed:', error));
    this.maxDelayMs = Math.min(Math.max(1, options.maxDelayMs ?? MAX_TIMER_DELAY_MS), MAX_TIMER_DELAY_MS);
  }

  /** Number of deadlines waiting. */
  get size(): number {
    return this.queue.size;
  }

  /** The underlying queue's work counters (comparisons, swaps). */
  get counters(): HeapCounters {
    return this.queue.counters;
  }

  /** Schedules `id` at `at` (ms since the epoch), replacing its previous deadline. */
  schedule(id: string, at: number, value: T): void {
    this.queue.set(id, at, value);
    this.arm();
  }

  /** Cancels `id`; returns whether it was scheduled. */
  cancel(id: string): boolean {
    const removed = this.queue.delete(id);
    if (removed) this.arm();
    return removed;
  }

  has(id: string): boolean {
    return this.queue.has(id);
  }

  /** The nearest deadline, if any. */
  next(): Deadline<T> | undefined {
    return this.queue.peek();
  }

  /** Timers currently armed: 0 or 1. */
  pendingTimers(): number {
    return this.armed ? 1 : 0;
  }

  /** Forgets every deadline. */
  clear(): void {
    this.queue.clear();
    this.arm();
  }

  /** Disarms the timer for good; deadlines stay queued but never fire. */
  stop(): void {
    this.stopped = true;
    this.disarm();
  }

  private disarm(): void {
    if (this.armed) this.clearTimer(this.timer);
    this.armed = false;
    this.timer = undefined;
    this.armedAt = Number.NaN;
  }

  private arm(): void {
    if (this.stopped || this.firing) return;
    const next = this.queue.peek();
    if (next === undefined) {
      this.disarm();
      return;
    }
    if (this.armed && this.armedAt === next.at) return;
    this.disarm();
    const delay = Math.min(Math.max(0, next.at - this.now()), this.maxDelayMs);
    this.armed = true;
    this.armedAt = next.at;
    this.timer = this.setTimer(() => this.fire(), delay);
  }

  private fire(): void {
    this.armed = false;
    this.timer = undefined;
    this.armedAt = Number.NaN;
    if (this.stopped) return;
    this.firing = true;
    try {
      const due = this.queue.popDue(this.now());
      if (due.length > 0) this.onDue(due);
    } catch (error) {
      this.onError(error);
    } finally {
      this.firing = false;
    }
    this.arm();
  }
}
