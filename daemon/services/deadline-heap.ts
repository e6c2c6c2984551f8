/** Work done by a heap, for tests that prove its complexity. */
export interface HeapCounters {
  comparisons: number;
  swaps: number;
}

const INITIAL = 16;

/**
 * The one heap of bella's deadlines: an indexed binary min-heap of deadlines keyed by small
 * non-negative integers (a lease table row, or a slot a string-keyed queue hands out), held in
 * typed arrays: no object, string or Map entry per deadline. `set` inserts or moves a key and
 * `delete` removes one in O(log n); `build` takes many at once in O(n). Equal deadlines come out in
 * the order they were last set.
 */
export class SlotHeap {
  /** By heap position: the key, its deadline, and the order it was set in (ties). */
  private keys = new Int32Array(INITIAL);
  private ats = new Float64Array(INITIAL);
  private seqs = new Float64Array(INITIAL);
  /** By key: its heap position, -1 when not held. */
  private pos = new Int32Array(INITIAL).fill(-1);
  private n = 0;
  private nextSeq = 0;
  /** Comparisons and swaps since construction or the last {@link resetCounters}. */
  readonly counters: HeapCounters = { comparisons: 0, swaps: 0 };

  /** Number of deadlines held. */
  get size(): number {
    return this.n;
  }

  has(key: number): boolean {
    return key >= 0 && key < this.pos.length && this.pos[key]! >= 0;
  }

  /** The deadline of `key`, or undefined. */
  atOf(key: number): number | undefined {
    return this.has(key) ? this.ats[this.pos[key]!] : undefined;
  }

  /** The key with the nearest deadline, or -1 when empty. */
  top(): number {
    return this.n ? this.keys[0]! : -1;
  }

  /** The nearest deadline, or undefined when empty. */
  topAt(): number | undefined {
    return this.n ? this.ats[0] : undefined;
  }

  /** Inserts `key` or moves it to a new deadline. */
  set(key: number, at: number): void {
    checkKey(key);
    if (!Number.isFinite(at)) throw new RangeError(`deadline for ${key} is not a finite number: ${at}`);
    const i = this.has(key) ? this.pos[key]! : this.append(key);
    this.ats[i] = at;
    this.seqs[i] = this.nextSeq++;
    this.fix(i);
  }

  /** Removes `key`; returns whether it was held. */
  delete(key: number): boolean {
    if (!this.has(key)) return false;
    const i = this.pos[key]!;
    this.pos[key] = -1;
    const last = --this.n;
    if (i !== last) {
      this.place(i, this.keys[last]!, this.ats[last]!, this.seqs[last]!);
      this.fix(i);
    }
    return true;
  }

  /** Removes the nearest deadline and returns its key (-1 when empty). */
  pop(): number {
    const key = this.top();
    if (key >= 0) this.delete(key);
    return key;
  }

  /** Removes everything. */
  clear(): void {
    for (let i = 0; i < this.n; i++) this.pos[this.keys[i]!] = -1;
    this.n = 0;
  }

  /**
   * Replaces everything with the deadlines `fill` adds, in O(n) (a bottom-up heapify instead of a
   * sift per deadline); `count` (at least how many it adds) sizes the arrays once. Ties come out in
   * the order added. A key added twice keeps its last deadline.
   */
  build(count: number, fill: (add: (key: number, at: number) => void) => void): void {
    this.clear();
    if (count > this.keys.length) this.resizeHeap(count);
    if (count > this.pos.length) this.resizeKeys(count);
    let heapified = true;
    fill((key, at) => {
      checkKey(key);
      if (!Number.isFinite(at)) throw new RangeError(`deadline for ${key} is not a finite number: ${at}`);
      const i = this.has(key) ? this.pos[key]! : this.append(key);
      this.ats[i] = at;
      this.seqs[i] = this.nextSeq++;
      heapified = false;
    });
    if (!heapified) this.heapify();
  }

  /**
   * Renumbers the keys: key k becomes `map[k]`; a key mapped to -1 (or past the map's end) is
   * dropped. O(n); the order of the rest is kept (ties too).
   */
  remap(map: Int32Array): void {
    let size = 0;
    for (let i = 0; i < map.length; i++) size = Math.max(size, map[i]! + 1);
    this.pos = new Int32Array(Math.max(size, INITIAL)).fill(-1);
    let w = 0;
    for (let i = 0; i < this.n; i++) {
      const old = this.keys[i]!;
      const key = old < map.length ? map[old]! : -1;
      if (key < 0) continue;
      this.keys[w] = key;
      this.ats[w] = this.ats[i]!;
      this.seqs[w] = this.seqs[i]!;
      this.pos[key] = w++;
    }
    const dropped = w !== this.n;
    this.n = w;
    // Compacting the array keeps each survivor's parent before it only when nothing was dropped.
    if (dropped) this.heapify();
  }

  resetCounters(): void {
    this.counters.comparisons = 0;
    this.counters.swaps = 0;
  }

  /** A new last position for `key` (not yet ordered). */
  private append(key: number): number {
    if (this.n === this.keys.length) this.resizeHeap(Math.ceil(this.n * 1.5));
    if (key >= this.pos.length) this.resizeKeys(Math.max(key + 1, Math.ceil(this.pos.length * 1.5)));
    const i = this.n++;
    this.keys[i] = key;
    this.pos[key] = i;
    return i;
  }

  private resizeHeap(capacity: number): void {
    const grow = <A extends Int32Array | Float64Array>(a: A, b: A) => (b.set(a.subarray(0, this.n)), b);
    this.keys = grow(this.keys, new Int32Array(capacity));
    this.ats = grow(this.ats, new Float64Array(capacity));
    this.seqs = grow(this.seqs, new Float64Array(capacity));
  }

  private resizeKeys(size: number): void {
    const pos = new Int32Array(size).fill(-1);
    pos.set(this.pos);
    this.pos = pos;
  }

  private heapify(): void {
    for (let i = (this.n >> 1) - 1; i >= 0; i--) this.down(i);
  }

  /** Whether (at, seq) comes before position `j`. */
  private before(at: number, seq: number, j: number): boolean {
    this.counters.comparisons++;
    const atJ = this.ats[j]!;
    return at < atJ || (at === atJ && seq < this.seqs[j]!);
  }

  private place(i: number, key: number, at: number, seq: number): void {
    this.keys[i] = key;
    this.ats[i] = at;
    this.seqs[i] = seq;
    this.pos[key] = i;
  }

  private fix(i: number): void {
    if (i > 0 && this.before(this.ats[i]!, this.seqs[i]!, (i - 1) >> 1)) this.up(i);
    else this.down(i);
  }

  /** Moves position `i`'s entry up to its place: parents move down into the hole. */
  private up(i: number): void {
    const key = this.keys[i]!;
    const at = this.ats[i]!;
    const seq = this.seqs[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(at, seq, parent)) break;
      this.counters.swaps++;
      this.place(i, this.keys[parent]!, this.ats[parent]!, this.seqs[parent]!);
      i = parent;
    }
    this.place(i, key, at, seq);
  }

  private down(i: number): void {
    const key = this.keys[i]!;
    const at = this.ats[i]!;
    const seq = this.seqs[i]!;
    const n = this.n;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.beats(right, this.ats[left]!, this.seqs[left]!) ? right : left;
      if (!this.beats(child, at, seq)) break;
      this.counters.swaps++;
      this.place(i, this.keys[child]!, this.ats[child]!, this.seqs[child]!);
      i = child;
    }
    this.place(i, key, at, seq);
  }

  /** Whether position `j` comes before (at, seq). */
  private beats(j: number, at: number, seq: number): boolean {
    this.counters.comparisons++;
    const atJ = this.ats[j]!;
    return atJ < at || (atJ === at && this.seqs[j]! < seq);
  }
}

function checkKey(key: number): void {
  if (!Number.isInteger(key) || key < 0 || key > 0x7fffffff) throw new RangeError(`not a deadline key: ${key}`);
}
