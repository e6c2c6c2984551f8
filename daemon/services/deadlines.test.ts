import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Deadline, DeadlineQueue, DeadlineScheduler, MAX_TIMER_DELAY_MS } from './deadlines';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('DeadlineQueue', () => {
  it('pops due deadlines in order and keeps the rest', () => {
    const q = new DeadlineQueue<string>();
    q.set('c', 30, 'C');
    q.set('a', 10, 'A');
    q.set('d', 40, 'D');
    q.set('b', 20, 'B');
    expect(q.size).toBe(4);
    expect(q.peek()).toEqual({ id: 'a', at: 10, value: 'A' });
    expect(q.popDue(25)).toEqual([
      { id: 'a', at: 10, value: 'A' },
      { id: 'b', at: 20, value: 'B' },
    ]);
    expect(q.size).toBe(2);
    expect(q.has('a')).toBe(false);
    expect(q.has('c')).toBe(true);
    expect(q.popDue(29)).toEqual([]);
  });

  it('moves an existing id instead of duplicating it', () => {
    const q = new DeadlineQueue<number>();
    q.set('x', 100, 1);
    q.set('y', 50, 2);
    q.set('x', 10, 3);
    expect(q.size).toBe(2);
    expect(q.peek()).toEqual({ id: 'x', at: 10, value: 3 });
    q.set('x', 1000, 4);
    expect(q.peek()?.id).toBe('y');
    expect(q.get('x')).toEqual({ id: 'x', at: 1000, value: 4 });
  });

  it('deletes from the middle and the top', () => {
    const q = new DeadlineQueue<null>();
    for (let i = 0; i < 20; i++) q.set(`k${i}`, (i * 7) % 20, null);
    expect(q.delete('k0')).toBe(true);
    expect(q.delete('k0')).toBe(false);
    expect(q.delete('k13')).toBe(true);
    const order = q.popDue(Infinity).map((d) => d.at);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(order).toHaveLength(18);
    expect(q.size).toBe(0);
    expect(q.peek()).toBeUndefined();
  });

  it('returns equal deadlines in the order they were set', () => {
    const q = new DeadlineQueue<null>();
    for (const id of ['p', 'q', 'r', 's']) q.set(id, 5, null);
    q.set('p', 5, null);
    expect(q.popDue(5).map((d) => d.id)).toEqual(['q', 'r', 's', 'p']);
  });

  it('refuses a deadline that is not a finite number', () => {
    const q = new DeadlineQueue<null>();
    expect(() => q.set('x', Number.NaN, null)).toThrow(RangeError);
    expect(q.size).toBe(0);
  });

  it('behaves like a naive sorted model (property)', () => {
    type Cmd =
      | { op: 'set'; id: string; at: number }
      | { op: 'delete'; id: string }
      | { op: 'popDue'; now: number }
      | { op: 'peek' };
    const id = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h');
    const cmd: fc.Arbitrary<Cmd> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), id, at: fc.integer({ min: 0, max: 50 }) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), id }) },
      {
        weight: 1,
        arbitrary: fc.record({ op: fc.constant('popDue' as const), now: fc.integer({ min: -1, max: 50 }) }),
      },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('peek' as const) }) },
    );
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 200 }), (cmds) => {
        const q = new DeadlineQueue<number>();
        const model = new Map<string, { at: number; seq: number; value: number }>();
        let seq = 0;
        const sorted = (): Array<Deadline<number>> =>
          [...model.entries()]
            .sort(([, x], [, y]) => x.at - y.at || x.seq - y.seq)
            .map(([k, v]) => ({ id: k, at: v.at, value: v.value }));
        for (const c of cmds) {
          if (c.op === 'set') {
            const value = seq;
            model.set(c.id, { at: c.at, seq: seq++, value });
            q.set(c.id, c.at, value);
          } else if (c.op === 'delete') {
            expect(q.delete(c.id)).toBe(model.delete(c.id));
          } else if (c.op === 'popDue') {
            const expected = sorted().filter((d) => d.at <= c.now);
            for (const d of expected) model.delete(d.id);
            expect(q.popDue(c.now)).toEqual(expected);
          } else {
            expect(q.peek()).toEqual(sorted()[0]);
          }
          expect(q.size).toBe(model.size);
          for (const k of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) expect(q.has(k)).toBe(model.has(k));
        }
        expect(q.popDue(Infinity)).toEqual(sorted());
      }),
      { numRuns: 300 },
    );
  });

  it('reschedules in logarithmic work: 100x more entries costs far less than 100x more comparisons', () => {
    // Worst case for a heap: renewing the lease that expires next moves it from the root to the
    // far end, so it sifts down the whole depth. Random reschedules are cheaper still.
    const perReschedule = (n: number, pick: 'next' | 'random'): number => {
      const rand = mulberry32(42);
      const q = new DeadlineQueue<null>();
      const horizon = 1_000_000_000;
      for (let i = 0; i < n; i++) q.set(`lease-${i}`, Math.floor(rand() * horizon), null);
      q.resetCounters();
      const ops = 2_000;
      for (let k = 0; k < ops; k++) {
        const id = pick === 'next' ? q.peek()!.id : `lease-${Math.floor(rand() * n)}`;
        q.set(id, horizon + k, null);
      }
      return q.counters.comparisons / ops;
    };
    const worstSmall = perReschedule(1_000, 'next');
    const worstLarge = perReschedule(100_000, 'next');
    // log2(100,000) / log2(1,000) ≈ 1.67; the n-ratio is 100.
    expect(worstLarge / worstSmall).toBeGreaterThan(1.2);
    expect(worstLarge / worstSmall).toBeLessThan(2.5);
    expect(worstLarge).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(100_000)) + 2);
    const randomSmall = perReschedule(1_000, 'random');
    const randomLarge = perReschedule(100_000, 'random');
    expect(randomLarge / randomSmall).toBeLessThan(2.5);
    expect(randomLarge).toBeLessThanOrEqual(worstLarge);
  });
});

interface FakeTimer {
  fn: () => void;
  at: number;
  ms: number;
}

function fakeClock(start = 1_000_000) {
  let now = start;
  const timers = new Set<FakeTimer>();
  const armed: number[] = [];
  return {
    now: () => now,
    setTimer(fn: () => void, ms: number): unknown {
      const t = { fn, at: now + ms, ms };
      timers.add(t);
      armed.push(ms);
      return t;
    },
    clearTimer(handle: unknown): void {
      timers.delete(handle as FakeTimer);
    },
    pending: () => timers.size,
    armed,
    /** Moves the clock forward, firing timers as their time comes. */
    advance(ms: number): void {
      const end = now + ms;
      for (;;) {
        const next = [...timers].sort((a, b) => a.at - b.at)[0];
        if (!next || next.at > end) break;
        timers.delete(next);
        now = Math.max(now, next.at);
        next.fn();
      }
      now = end;
    },
    /** Moves the clock forward first, then fires what is due (a late, busy event loop). */
    jump(ms: number): void {
      now += ms;
      for (const t of [...timers].filter((x) => x.at <= now)) {
        timers.delete(t);
        t.fn();
      }
    },
  };
}

describe('DeadlineScheduler', () => {
  function setup() {
    const clock = fakeClock();
    const batches: Array<Array<Deadline<string>>> = [];
    const scheduler = new DeadlineScheduler<string>({
      now: clock.now,
      setTimer: clock.setTimer,
      clearTimer: clock.clearTimer,
      onDue: (items) => batches.push(items),
    });
    return { clock, batches, scheduler };
  }

  it('fires each deadline at its time with one timer', () => {
    const { clock, batches, scheduler } = setup();
    const t0 = clock.now();
    scheduler.schedule('warn:1', t0 + 4_000, 'warn');
    scheduler.schedule('expire:1', t0 + 8_000, 'expire');
    expect(scheduler.pendingTimers()).toBe(1);
    expect(clock.pending()).toBe(1);
    clock.advance(3_999);
    expect(batches).toEqual([]);
    clock.advance(1);
    expect(batches).toEqual([[{ id: 'warn:1', at: t0 + 4_000, value: 'warn' }]]);
    expect(scheduler.pendingTimers()).toBe(1);
    clock.advance(4_000);
    expect(batches[1]).toEqual([{ id: 'expire:1', at: t0 + 8_000, value: 'expire' }]);
    expect(scheduler.pendingTimers()).toBe(0);
    expect(clock.pending()).toBe(0);
    expect(scheduler.size).toBe(0);
  });

  it('hands every deadline due at once to onDue as one batch', () => {
    const { clock, batches, scheduler } = setup();
    const t0 = clock.now();
    for (let i = 0; i < 20; i++) scheduler.schedule(`l${i}`, t0 + 1_000 + (i % 3), `v${i}`);
    scheduler.schedule('later', t0 + 5_000, 'later');
    clock.jump(1_002);
    expect(batches.length).toBe(1);
    expect(batches[0]).toHaveLength(20);
    const ats = batches[0]!.map((d) => d.at);
    expect(ats).toEqual([...ats].sort((a, b) => a - b));
    expect(scheduler.size).toBe(1);
    expect(clock.pending()).toBe(1);
  });

  it('re-arms when the nearest deadline is cancelled, moved, or a nearer one arrives', () => {
    const { clock, batches, scheduler } = setup();
    const t0 = clock.now();
    scheduler.schedule('a', t0 + 5_000, 'a');
    scheduler.schedule('b', t0 + 10_000, 'b');
    expect(clock.armed).toEqual([5_000]);
    scheduler.schedule('c', t0 + 20_000, 'c');
    expect(clock.armed).toEqual([5_000]);
    scheduler.schedule('d', t0 + 1_000, 'd');
    expect(clock.armed).toEqual([5_000, 1_000]);
    expect(scheduler.cancel('d')).toBe(true);
    expect(scheduler.cancel('d')).toBe(false);
    expect(clock.armed).toEqual([5_000, 1_000, 5_000]);
    scheduler.schedule('a', t0 + 15_000, 'a renewed');
    expect(clock.armed.at(-1)).toBe(10_000);
    expect(clock.pending()).toBe(1);
    clock.advance(15_000);
    expect(batches.flat().map((d) => d.value)).toEqual(['b', 'a renewed']);
  });

  it('fires a deadline already in the past on the next tick', () => {
    const { clock, batches, scheduler } = setup();
    scheduler.schedule('late', clock.now() - 60_000, 'late');
    expect(clock.armed).toEqual([0]);
    clock.advance(0);
    expect(batches).toEqual([[{ id: 'late', at: clock.now() - 60_000, value: 'late' }]]);
  });

  it('caps the timer delay at 2^31-1 ms and re-arms when a capped timer fires early', () => {
    const { clock, batches, scheduler } = setup();
    const far = clock.now() + 90 * 24 * 3600 * 1000;
    scheduler.schedule('far', far, 'far');
    expect(clock.armed).toEqual([MAX_TIMER_DELAY_MS]);
    clock.advance(MAX_TIMER_DELAY_MS);
    expect(batches).toEqual([]);
    expect(scheduler.pendingTimers()).toBe(1);
    clock.advance(far - clock.now());
    expect(batches).toEqual([[{ id: 'far', at: far, value: 'far' }]]);
  });

  it('honours a shorter maxDelayMs', () => {
    const clock = fakeClock();
    const scheduler = new DeadlineScheduler<null>({ ...clock, onDue: () => {}, maxDelayMs: 30_000 });
    scheduler.schedule('x', clock.now() + 3_600_000, null);
    expect(clock.armed).toEqual([30_000]);
  });

  it('lets onDue schedule new deadlines and still holds one timer', () => {
    const clock = fakeClock();
    const seen: string[] = [];
    const scheduler: DeadlineScheduler<string> = new DeadlineScheduler<string>({
      ...clock,
      onDue: (items) => {
        for (const item of items) {
          seen.push(item.id);
          if (item.value === 'warn') scheduler.schedule('expire', item.at + 4_000, 'expire');
        }
      },
    });
    scheduler.schedule('warn', clock.now() + 4_000, 'warn');
    clock.advance(4_000);
    expect(clock.pending()).toBe(1);
    clock.advance(4_000);
    expect(seen).toEqual(['warn', 'expire']);
    expect(clock.pending()).toBe(0);
  });

  it('keeps running when onDue throws', () => {
    const clock = fakeClock();
    const errors: unknown[] = [];
    const seen: string[] = [];
    const scheduler = new DeadlineScheduler<string>({
      ...clock,
      onDue: (items) => {
        seen.push(...items.map((d) => d.id));
        if (items.some((d) => d.id === 'boom')) throw new Error('boom');
      },
      onError: (e) => errors.push(e),
    });
    scheduler.schedule('boom', clock.now() + 10, 'x');
    scheduler.schedule('after', clock.now() + 20, 'y');
    clock.advance(30);
    expect(seen).toEqual(['boom', 'after']);
    expect(errors).toHaveLength(1);
  });

  it('stop() disarms the timer and nothing fires afterwards', () => {
    const { clock, batches, scheduler } = setup();
    scheduler.schedule('a', clock.now() + 10, 'a');
    scheduler.stop();
    expect(scheduler.pendingTimers()).toBe(0);
    expect(clock.pending()).toBe(0);
    scheduler.schedule('b', clock.now() + 10, 'b');
    clock.advance(100);
    expect(batches).toEqual([]);
    expect(scheduler.pendingTimers()).toBe(0);
  });

  it('holds exactly one pending timer for 100,000 scheduled deadlines', () => {
    const { clock, batches, scheduler } = setup();
    const rand = mulberry32(7);
    const t0 = clock.now();
    for (let i = 0; i < 100_000; i++) {
      scheduler.schedule(`lease-${i}`, t0 + 1_000 + Math.floor(rand() * 86_400_000), 'x');
    }
    expect(scheduler.size).toBe(100_000);
    expect(scheduler.pendingTimers()).toBe(1);
    expect(clock.pending()).toBe(1);
    // A renew of one lease: logarithmic work, still one timer.
    scheduler.counters.comparisons = 0;
    scheduler.schedule('lease-5', t0 + 90_000_000, 'x');
    expect(scheduler.counters.comparisons).toBeLessThanOrEqual(2 * 17 + 2);
    expect(clock.pending()).toBe(1);
    clock.advance(3_600_000);
    const fired = batches.flat();
    expect(fired.length).toBeGreaterThan(0);
    expect(fired.every((d) => d.at <= clock.now())).toBe(true);
    expect(scheduler.size + fired.length).toBe(100_000);
    expect(clock.pending()).toBe(1);
  });

  it('works with the real timer defaults', async () => {
    const fired = await new Promise<Array<Deadline<number>>>((resolve) => {
      const scheduler = new DeadlineScheduler<number>({ onDue: resolve });
      scheduler.schedule('soon', Date.now() + 5, 1);
      expect(scheduler.pendingTimers()).toBe(1);
    });
    expect(fired.map((d) => d.id)).toEqual(['soon']);
  });
});
