import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_WAIT_MS, nextDaily, nextHourly, schedule } from './schedule';

const local = (y: number, mo: number, d: number, h: number, mi: number, s = 0) =>
  new Date(y, mo - 1, d, h, mi, s).getTime();

describe('next times', () => {
  it('hourly: the same hour when the minute is still to come, else the next hour', () => {
    expect(nextHourly(local(2026, 12, 3, 6, 2), 7)).toBe(local(2026, 12, 3, 6, 7));
    expect(nextHourly(local(2026, 12, 3, 6, 7), 7)).toBe(local(2026, 12, 3, 7, 7));
    expect(nextHourly(local(2026, 12, 3, 6, 7, 30), 7)).toBe(local(2026, 12, 3, 7, 7));
    expect(nextHourly(local(2026, 12, 31, 23, 50), 7)).toBe(local(2027, 1, 1, 0, 7));
  });

  it('daily: today when the time is still to come, else tomorrow (month and year ends too)', () => {
    expect(nextDaily(local(2026, 12, 3, 1, 0), 3, 23)).toBe(local(2026, 12, 3, 3, 23));
    expect(nextDaily(local(2026, 12, 3, 3, 23), 3, 23)).toBe(local(2026, 12, 4, 3, 23));
    expect(nextDaily(local(2026, 12, 31, 12, 0), 3, 23)).toBe(local(2027, 1, 1, 3, 23));
    expect(nextDaily(local(2026, 2, 28, 4, 0), 3, 23)).toBe(local(2026, 3, 1, 3, 23));
  });
});

describe('schedule', () => {
  afterEach(() => vi.useRealTimers());

  it('runs at each due time, never twice at once, and stop waits for a run under way', async () => {
    vi.useFakeTimers({ now: local(2026, 12, 3, 6, 0) });
    const runs: number[] = [];
    let finish: (() => void) | undefined;
    const job = () =>
      new Promise<void>((resolve) => {
        runs.push(Date.now());
        finish = resolve;
      });
    const task = schedule((from) => nextHourly(from, 7), job);
    await vi.advanceTimersByTimeAsync(6 * 60_000);
    expect(runs).toEqual([]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runs).toEqual([local(2026, 12, 3, 6, 7)]);
    // Still running at 07:07: that time is skipped (no overlap), 08:07 runs again.
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(runs).toHaveLength(1);
    finish!();
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(runs).toEqual([local(2026, 12, 3, 6, 7), local(2026, 12, 3, 8, 7)]);
    let stopped = false;
    const stopping = task.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    finish!();
    await stopping;
    expect(stopped).toBe(true);
    await vi.advanceTimersByTimeAsync(3 * 60 * 60_000);
    expect(runs).toHaveLength(2);
  });

  it('looks at the wall clock again at least every MAX_WAIT_MS (a clock set forward runs the job)', async () => {
    vi.useFakeTimers({ now: local(2026, 12, 3, 4, 0) });
    const runs: number[] = [];
    const task = schedule(
      (from) => nextDaily(from, 3, 23),
      async () => void runs.push(Date.now()),
    );
    // The wall clock jumps a day ahead without the timer's time passing (a suspend, an NTP step).
    vi.setSystemTime(local(2026, 12, 4, 3, 30));
    await vi.advanceTimersByTimeAsync(MAX_WAIT_MS);
    expect(runs).toHaveLength(1);
    await task.stop();
  });

  it('a failing job does not end the schedule', async () => {
    vi.useFakeTimers({ now: local(2026, 12, 3, 6, 0) });
    let calls = 0;
    const task = schedule(
      (from) => nextHourly(from, 7),
      async () => {
        calls++;
        throw new Error('disk full');
      },
    );
    await vi.advanceTimersByTimeAsync(2 * 60 * 60_000);
    expect(calls).toBe(2);
    await task.stop();
  });
});
