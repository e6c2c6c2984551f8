import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlotHeap } from './deadline-heap';
import { SlotQueue } from './deadlines';

/** The simple model: every key with its deadline, value and the order it was set in. */
class Model {
  entries = new Map<number, { at: number; seq: number; value: string }>();
  private seq = 0;
  set(key: number, at: number, value: string) {
    this.entries.set(key, { at, seq: this.seq++, value });
  }
  sorted() {
    return [...this.entries]
      .sort(([, x], [, y]) => x.at - y.at || x.seq - y.seq)
      .map(([id, v]) => ({ id, at: v.at, value: v.value }));
  }
}

type Cmd =
  | { op: 'set'; key: number; at: number; value: 'warn' | 'expire' }
  | { op: 'delete'; key: number }
  | { op: 'popDue'; now: number }
  | { op: 'build'; items: Array<{ key: number; at: number; value: 'warn' | 'expire' }> }
  | { op: 'remap'; shift: number; drop: number };

const key = fc.integer({ min: 0, max: 40 });
const at = fc.integer({ min: 0, max: 30 });
const value = fc.constantFrom('warn' as const, 'expire' as const);
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('set' as const), key, at, value }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), key }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('popDue' as const), now: fc.integer({ min: -1, max: 30 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('build' as const),
      items: fc.array(fc.record({ key, at, value }), { maxLength: 60 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('remap' as const),
      shift: fc.integer({ min: -3, max: 3 }),
      drop: fc.integer({ min: 0, max: 7 }),
    }),
  },
);

describe('SlotQueue (the lease deadlines, keyed by table row)', () => {
  it('behaves like a sorted model: sets, moves, deletes, ties, bulk builds and renumbering', () => {
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 150 }), (cmds) => {
        const q = new SlotQueue<'warn' | 'expire'>(['warn', 'expire']);
        let model = new Model();
        for (const c of cmds) {
          if (c.op === 'set') {
            model.set(c.key, c.at, c.value);
            q.set(c.key, c.at, c.value);
          } else if (c.op === 'delete') {
            expect(q.delete(c.key)).toBe(model.entries.delete(c.key));
          } else if (c.op === 'popDue') {
            const due = model.sorted().filter((d) => d.at <= c.now);
            for (const d of due) model.entries.delete(d.id);
            expect(q.popDue(c.now)).toEqual(due);
          } else if (c.op === 'build') {
            model = new Model();
            for (const i of c.items) model.set(i.key, i.at, i.value);
            q.build(41, (add) => {
              for (const i of c.items) add(i.key, i.at, i.value);
            });
          } else {
            // Rows renumbered as a pack does: every `drop`-th key gone, the rest moved by `shift`.
            const map = Int32Array.from({ length: 41 }, (_, k) =>
              c.drop > 0 && k % (c.drop + 1) === 0 ? -1 : Math.max(0, k + c.shift),
            );
            // A pack never maps two rows to one: keep the model's keys distinct after the move.
            const seen = new Set<number>();
            for (let k = 0; k < map.length; k++) {
              if (map[k]! < 0) continue;
              if (seen.has(map[k]!)) map[k] = -1;
              else seen.add(map[k]!);
            }
            const moved = new Map<number, { at: number; seq: number; value: string }>();
            for (const [k, v] of model.entries) if (map[k]! >= 0) moved.set(map[k]!, v);
            model.entries = moved;
            q.remap(map);
          }
          expect(q.size).toBe(model.entries.size);
          expect(q.peek()).toEqual(model.sorted()[0]);
          for (let k = 0; k <= 41; k++) expect(q.has(k)).toBe(model.entries.has(k));
        }
        expect(q.popDue(Infinity)).toEqual(model.sorted());
      }),
      { numRuns: 300 },
    );
  });

  it('returns equal deadlines in the order they were set, a moved one after the rest', () => {
    const q = new SlotQueue<'x'>(['x']);
    for (const k of [7, 3, 9, 1]) q.set(k, 5, 'x');
    q.set(7, 5, 'x');
    expect(q.popDue(5).map((d) => d.id)).toEqual([3, 9, 1, 7]);
  });

  it('keeps the order of equal deadlines through a bulk build', () => {
    const q = new SlotQueue<'x'>(['x']);
    q.build(100, (add) => {
      for (let k = 99; k >= 0; k--) add(k, k % 2 ? 10 : 20, 'x');
    });
    const order = q.popDue(Infinity).map((d) => d.id);
    const odd = Array.from({ length: 50 }, (_, i) => 99 - 2 * i);
    expect(order).toEqual([...odd, ...odd.map((k) => k - 1)]);
  });

  it('refuses a value it does not hold, a deadline that is not finite and a key that is not a row', () => {
    const q = new SlotQueue<'warn' | 'expire'>(['warn', 'expire']);
    expect(() => q.set(1, 5, 'later' as 'warn')).toThrow(RangeError);
    expect(() => q.set(1, Number.NaN, 'warn')).toThrow(RangeError);
    expect(() => q.set(-1, 5, 'warn')).toThrow(RangeError);
    expect(() => q.set(1.5, 5, 'warn')).toThrow(RangeError);
    expect(q.size).toBe(0);
  });
});

describe('SlotHeap', () => {
  it('builds 100,000 deadlines in linear work (no sift per deadline)', () => {
    const heap = new SlotHeap();
    let x = 12345;
    const rand = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const n = 100_000;
    heap.build(n, (add) => {
      for (let k = 0; k < n; k++) add(k, Math.floor(rand() * 1e9));
    });
    // Floyd's bottom-up heapify: at most 2 comparisons per level sifted, and the levels sum to below n.
    expect(heap.counters.comparisons).toBeLessThanOrEqual(3 * n);
    expect(heap.size).toBe(n);
    let last = -Infinity;
    for (let i = 0; i < n; i++) {
      const at = heap.topAt()!;
      expect(at).toBeGreaterThanOrEqual(last);
      last = at;
      heap.pop();
    }
    expect(heap.top()).toBe(-1);
  });

  it('moves a key in logarithmic work', () => {
    const heap = new SlotHeap();
    const n = 100_000;
    heap.build(n, (add) => {
      for (let k = 0; k < n; k++) add(k, k);
    });
    heap.resetCounters();
    heap.set(0, 2 * n);
    expect(heap.counters.comparisons).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(n)) + 2);
    expect(heap.top()).toBe(1);
    expect(heap.atOf(0)).toBe(2 * n);
  });
});
