import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeNotifier } from '../../test/helpers/notifier';
import { Store } from '../store';
import { EventBus } from './events';
import { createServices } from './index';
import { START_DELAY_MS } from './maintenance';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('Maintenance', () => {
  it('runs the start-up jobs START_DELAY_MS after start (the first requests first), and none once stopped', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-maintenance-'));
    dirs.push(home);
    const store = await Store.open(home);
    const lines: string[] = [];
    const { maintenance, lifecycle } = createServices(
      { store, events: new EventBus(), log: (line) => lines.push(line) },
      fakeNotifier([]),
      { retentionMs: 30 * 86400_000, backupsKept: 7 },
    );
    const jobs = () => lines.filter((l) => l.startsWith('maintenance: '));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      maintenance.start();
      await vi.advanceTimersByTimeAsync(START_DELAY_MS - 1);
      expect(jobs()).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      await vi.waitFor(() => expect(jobs().some((l) => l.includes('start-up backup'))).toBe(true));
      expect(jobs()[0]).toBe('maintenance: archive ended leases: nothing to archive');
      await maintenance.stop();

      lines.length = 0;
      maintenance.start();
      await maintenance.stop();
      await vi.advanceTimersByTimeAsync(2 * START_DELAY_MS);
      expect(jobs()).toEqual([]);
    } finally {
      vi.useRealTimers();
      lifecycle.stop();
      await store.close();
    }
  });

  it('drops the CI replay keys whose JWT could no longer pass, and keeps the others, on disk too', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-maintenance-'));
    dirs.push(home);
    let now = Date.parse('2026-12-02T12:00:00Z');
    const time = { wall: () => now, monotonic: () => now };
    const store = await Store.open(home, { time });
    const { maintenance, lifecycle } = createServices(
      { store, events: new EventBus(), log: () => undefined },
      fakeNotifier([]),
      { retentionMs: 30 * 86400_000, backupsKept: 7 },
    );
    const spent = 'a'.repeat(64);
    const live = 'b'.repeat(64);
    await store.transact((state, touched) => {
      state.ciReplays.set(spent, { id: spent, until: now + 1000 });
      state.ciReplays.set(live, { id: live, until: now + 600_000 });
      touched.record('ciReplay', spent).record('ciReplay', live);
      return { result: null, audit: [] };
    });
    expect(await maintenance.dropSpentReplays()).toBe('no spent CI replay keys');

    now += 2000;
    expect(await maintenance.dropSpentReplays()).toBe('1 spent CI replay keys dropped');
    expect([...store.state.ciReplays.keys()]).toEqual([live]);
    lifecycle.stop();
    await store.close();

    const reopened = await Store.open(home, { time });
    expect([...reopened.state.ciReplays.keys()]).toEqual([live]);
    await reopened.close();
  });
});
