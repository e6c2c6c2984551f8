import { unrefTimers } from '../base/node/timers';
import { SlotHeap, type HeapCounters } from './deadline-heap';

export type { HeapCounters } from './deadline-heap';

/** One entry of a deadline queue: a deadline `at` (ms since the epoch) for `id`. */
export interface Deadline<T, K = string> {
  id: K;
  at: number;
  value: T;
}

/** What a {@link DeadlineScheduler} needs of its queue. */
export interface TimedQueue<T, K> {
  readonly size: number;
  readonly counters: HeapCounters;
  has(id: K): boolean;
  /** Inserts `id` or moves it to a new deadline (and value). */
  set(id: K, at: number, value: T): void;
  /** Removes `id`; returns whether it was held. */
  delete(id: K): boolean;
  /** The nearest deadline, without removing it. */
  peek(): Deadline<T, K> | undefined;
  /** Removes and returns every deadline with `at <= now`, nearest first. */
  popDue(now: number): Array<Deadline<T, K>>;
  clear(): void;
}

/**
 * Deadlines keyed by a string id (few of them: access requests' windows), over the one
 * {@link SlotHeap}: each id held gets a slot, given back when it leaves. Equal deadlines come out in
 * the order they were last set.
 */
export class DeadlineQueue<T> implements TimedQueue<T, string> {
  private readonly heap = new SlotHeap();
  private readonly slots = new Map<string, number>();
  private readonly ids: Array<string | undefined> = [];
  private readonly values: Array<T | undefined> = [];
  private readonly free: number[] = [];

  get size(): number {
    return this.heap.size;
  }

  /** Comparisons and swaps since construction or the last {@link resetCounters}. */
  get counters(): HeapCounters {
    return this.heap.counters;
  }

  has(id: string): boolean {
    return this.slots.has(id);
  }

  /** The deadline of `id`, if held. */
  get(id: string): Deadline<T> | undefined {
    const slot = this.slots.get(id);
    return slot === undefined ? undefined : this.entry(slot);
  }

  set(id: string, at: number, value: T): void {
    if (!Number.isFinite(at)) throw new RangeError(`deadline for ${id} is not a finite number: ${at}`);
    let slot = this.slots.get(id);
    if (slot === undefined) {
      slot = this.free.pop() ?? this.ids.length;
      this.slots.set(id, slot);
      this.ids[slot] = id;
    }
    this.values[slot] = value;
    this.heap.set(slot, at);
  }

  delete(id: string): boolean {
    const slot = this.slots.get(id);
    if (slot === undefined) return false;
    this.heap.delete(slot);
    this.release(slot);
    return true;
  }

  peek(): Deadline<T> | undefined {
    const slot = this.heap.top();
    return slot < 0 ? undefined : this.entry(slot);
  }

  popDue(now: number): Array<Deadline<T>> {
    const due: Array<Deadline<T>> = [];
    while (this.heap.size > 0 && this.heap.topAt()! <= now) {
      const slot = this.heap.top();
      due.push(this.entry(slot));
      this.heap.delete(slot);
      this.release(slot);
    }
    return due;
  }

  clear(): void {
    this.heap.clear();
    this.slots.clear();
    this.ids.length = 0;
    this.values.length = 0;
    this.free.length = 0;
  }

  resetCounters(): void {
    this.heap.resetCounters();
  }

  private entry(slot: number): Deadline<T> {
    return { id: this.ids[slot]!, at: this.heap.atOf(slot)!, value: this.values[slot] as T };
  }

  private release(slot: number): void {
    this.slots.delete(this.ids[slot]!);
    this.ids[slot] = undefined;
    this.values[slot] = undefined;
    this.free.push(slot);
  }
}

/**
 * Deadlines keyed by a small integer (the lease table's row of each active lease), each with one
 * of a few fixed values: a key costs 25 bytes in typed arrays, with no string, object or Map entry.
 * {@link build} takes every deadline at once in O(n); {@link remap} follows the keys when the
 * rows are renumbered.
 */
export class SlotQueue<T> implements TimedQueue<T, number> {
  private readonly heap = new SlotHeap();
  /** By key: the index of its value in `choices`. */
  private kinds: Uint8Array<ArrayBuffer> = new Uint8Array(16);

  /** `choices`: the values a deadline may carry (at most 256). */
  constructor(private readonly choices: readonly T[]) {
    if (choices.length === 0 || choices.length > 256) throw new RangeError('a slot queue takes 1 to 256 values');
  }

  get size(): number {
    return this.heap.size;
  }

  get counters(): HeapCounters {
    return this.heap.counters;
  }

  has(key: number): boolean {
    return this.heap.has(key);
  }

  set(key: number, at: number, value: T): void {
    const kind = this.kindOf(value);
    this.heap.set(key, at);
    this.holdKind(key, kind);
  }

  delete(key: number): boolean {
    return this.heap.delete(key);
  }

  peek(): Deadline<T, number> | undefined {
    const key = this.heap.top();
    return key < 0 ? undefined : { id: key, at: this.heap.topAt()!, value: this.choices[this.kinds[key]!]! };
  }

  popDue(now: number): Array<Deadline<T, number>> {
    const due: Array<Deadline<T, number>> = [];
    while (this.heap.size > 0 && this.heap.topAt()! <= now) {
      due.push(this.peek()!);
      this.heap.pop();
    }
    return due;
  }

  clear(): void {
    this.heap.clear();
  }

  /**
   * Replaces every deadline with those `fill` adds, in O(n); `count` (at least the number added
   * and above every key) sizes the arrays once.
   */
  build(count: number, fill: (add: (key: number, at: number, value: T) => void) => void): void {
    if (count > this.kinds.length) this.kinds = grown(this.kinds, count);
    this.heap.build(count, (add) =>
      fill((key, at, value) => {
        const kind = this.kindOf(value);
        add(key, at);
        this.holdKind(key, kind);
      }),
    );
  }

  /** Renumbers the keys: key k becomes `map[k]` (-1: dropped). */
  remap(map: Int32Array): void {
    let size = 16;
    for (let k = 0; k < map.length; k++) size = Math.max(size, map[k]! + 1);
    const kinds = new Uint8Array(size);
    for (let k = 0; k < map.length && k < this.kinds.length; k++) if (map[k]! >= 0) kinds[map[k]!] = this.kinds[k]!;
    this.kinds = kinds;
    this.heap.remap(map);
  }

  private kindOf(value: T): number {
    const kind = this.choices.indexOf(value);
    if (kind < 0) throw new RangeError(`not a value this queue holds: ${String(value)}`);
    return kind;
  }

  private holdKind(key: number, kind: number): void {
    if (key >= this.kinds.length) this.kinds = grown(this.kinds, Math.max(key + 1, Math.ceil(this.kinds.length * 1.5)));
    this.kinds[key] = kind;
  }
}

function grown(a: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(size);
  b.set(a);
  return b;
}

/** setTimeout stores its delay as a signed 32-bit integer; longer delays fire at once. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** What a {@link DeadlineScheduler} needs from the outside world (a fake clock in tests). */
export interface DeadlineSchedulerOptions<T, K = string> {
  /** The queue (default: a {@link DeadlineQueue} keyed by string ids). */
  queue?: TimedQueue<T, K>;
  /** Current time, ms since the epoch. Default `Date.now`. */
  now?(): number;
  /** Arms a one-shot timer. Default `setTimeout`, unref'd so it never keeps the process alive. */
  setTimer?(fn: () => void, ms: number): unknown;
  /** Disarms a timer returned by `setTimer`. Default `clearTimeout`. */
  clearTimer?(handle: unknown): void;
  /** Called once per timer firing with every deadline that is due, nearest first. */
  onDue(items: Array<Deadline<T, K>>): void;
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
export class DeadlineScheduler<T, K = string> {
  private readonly queue: TimedQueue<T, K>;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  private readonly onDue: (items: Array<Deadline<T, K>>) => void;
  private readonly onError: (error: unknown) => void;
  private readonly maxDelayMs: number;
  private timer: unknown = undefined;
  private armed = false;
  private armedAt = Number.NaN;
  private firing = false;
  private stopped = false;

  constructor(options: DeadlineSchedulerOptions<T, K>) {
    // Without a queue of its own, K is string (the default type argument).
    this.queue = options.queue ?? (new DeadlineQueue<T>() as unknown as TimedQueue<T, K>);
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
  schedule(id: K, at: number, value: T): void {
    this.queue.set(id, at, value);
    this.arm();
  }

  /** Cancels `id`; returns whether it was scheduled. */
  cancel(id: K): boolean {
    const removed = this.queue.delete(id);
    if (removed) this.arm();
    return removed;
  }

  has(id: K): boolean {
    return this.queue.has(id);
  }

  /** The nearest deadline, if any. */
  next(): Deadline<T, K> | undefined {
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

  /** Arms the timer for the nearest deadline after the queue was changed directly (a bulk build). */
  rearm(): void {
    this.arm();
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
