import { afterEach, describe, expect, it, vi } from 'vitest';
import { BellaError } from '../api';
import { CACHED_ADMISSION_HEADROOM, DiskReserve, READ_RESERVE } from './disk-reserve';

const MiB = 1024 * 1024;

/** A disk whose free space the test sets, counting how often it is read. */
function disk(initial: number) {
  const d = { free: initial, reads: 0 };
  const reserve = new DiskReserve(
    '/data',
    () => 100 * 1024,
    () => (d.reads++, d.free),
  );
  return { d, reserve };
}

function refusal(fn: () => void): BellaError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BellaError);
    return err as BellaError;
  }
  throw new Error('expected a refusal');
}

afterEach(() => {
  vi.useRealTimers();
});

describe('DiskReserve: which free-space reading a commit is admitted on', () => {
  it('far from the reserve, growth and release reuse a recent reading instead of a statfs each', () => {
    const { d, reserve } = disk(10 * 1024 * MiB);
    for (let i = 0; i < 100; i++) reserve.admit('growth');
    for (let i = 0; i < 10; i++) reserve.admit('release');
    expect(d.reads).toBe(1);
  });

  it('within the headroom of the reserve, every growth admission reads the disk afresh', () => {
    const { d, reserve } = disk(reserve0() + CACHED_ADMISSION_HEADROOM - 1);
    for (let i = 0; i < 5; i++) reserve.admit('growth');
    expect(d.reads).toBe(5); // one fresh reading per admission (the first one's is fresh already)
  });

  it('a disk that filled is refused on a fresh reading: growth first, then reads; release never', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const { d, reserve } = disk(512 * MiB);
    reserve.admit('growth');
    d.free = 700 * 1024; // another process filled the disk
    reserve.admit('growth'); // within 100 ms of a reading far above the reserve: not seen yet
    vi.advanceTimersByTime(101); // the reading has aged out
    expect(refusal(() => reserve.admit('growth')).message).toMatch(/is full \(ENOSPC: 700 KiB free, bella keeps/);
    reserve.admit('read');
    reserve.admit('release');
    d.free = READ_RESERVE - 1;
    vi.advanceTimersByTime(101);
    expect(refusal(() => reserve.admit('read')).message).toMatch(/reads are refused so that revoking stays possible/);
    d.free = 0;
    reserve.admit('release');
  });

  it("bella's own writes count against the reading, and enough of them force a fresh one", () => {
    const { d, reserve } = disk(reserve0() + CACHED_ADMISSION_HEADROOM + 4 * MiB);
    reserve.admit('growth');
    reserve.spent(5 * MiB); // now under the headroom by the reading alone: read afresh
    reserve.admit('growth');
    expect(d.reads).toBe(2);
    d.free = 10 * 1024 * MiB;
    reserve.admit('growth');
    reserve.spent(9 * MiB); // more than the refresh threshold since the last reading
    reserve.admit('growth');
    expect(d.reads).toBe(3);
    expect(reserve.free()).toBe(10 * 1024 * MiB);
  });

  it('a refusal is always made on a fresh reading, never on a stale one', () => {
    const { d, reserve } = disk(100 * 1024); // full when first read
    expect(() => reserve.admit('growth')).toThrow(BellaError);
    expect(d.reads).toBe(1); // the first reading, fresh, refused it
    d.free = 10 * 1024 * MiB; // space freed a moment later: seen at once
    reserve.admit('growth');
    expect(d.reads).toBe(2);
  });
});

/** What growth needs on the stand-in disk (1 MiB reserve + 256 KiB snapshot room). */
function reserve0(): number {
  return disk(0).reserve.growthReserve();
}
