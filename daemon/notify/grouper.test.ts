import { describe, expect, it } from 'vitest';
import type { ExpiryWarning, WarningGroup } from './format';
import { WarningGrouper } from './grouper';
import type { DesktopNotification } from './notifier';

function fakeTimers() {
  let now = Date.UTC(2026, 10, 28, 12, 0, 0);
  const timers = new Map<number, { fn: () => void; at: number }>();
  let nextId = 1;
  return {
    now: () => now,
    setTimer: (fn: () => void, ms: number): unknown => {
      const id = nextId++;
      timers.set(id, { fn, at: now + ms });
      return id;
    },
    clearTimer: (handle: unknown): void => {
      timers.delete(handle as number);
    },
    pending: () => timers.size,
    advance(ms: number): void {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].sort(([, a], [, b]) => a.at - b.at).find(([, t]) => t.at <= end);
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = end;
    },
  };
}

/** One commit's warning of one lease, as the lease lifecycle hands it over. */
const one = (warning: ExpiryWarning): WarningGroup => ({
  project: warning.project,
  environment: warning.environment,
  warnings: [warning],
});

function setup(windowMs?: number) {
  const clock = fakeTimers();
  const emitted: Array<{ group: WarningGroup; notification: DesktopNotification }> = [];
  const grouper = new WarningGrouper({
    ...clock,
    windowMs,
    timeZone: 'UTC',
    locale: 'en-GB',
    emit: (group, notification) => emitted.push({ group, notification }),
  });
  const warn = (over: Partial<ExpiryWarning>): ExpiryWarning => ({
    project: 'my-api',
    environment: 'production',
    leaseId: 'lse_1',
    scope: ['DATABASE_URL'],
    reason: 'deploy',
    expiresAt: clock.now() + 7_200_000,
    ...over,
  });
  return { clock, emitted, grouper, warn };
}

describe('WarningGrouper', () => {
  it('emits 20 warnings of one environment as one notification after the window', () => {
    const { clock, emitted, grouper, warn } = setup();
    for (let i = 0; i < 20; i++) grouper.add(one(warn({ leaseId: `lse_${i}` })));
    expect(clock.pending()).toBe(1);
    clock.advance(499);
    expect(emitted).toEqual([]);
    clock.advance(1);
    expect(emitted).toHaveLength(1);
    expect(emitted[0]!.group.warnings).toHaveLength(20);
    expect(emitted[0]!.notification.title).toBe('20 leases in my-api/production expire in 2 h');
    expect(grouper.pending()).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('keeps separate groups per project/environment, each on its own window', () => {
    const { clock, emitted, grouper, warn } = setup(1_000);
    grouper.add(one(warn({ leaseId: 'a' })));
    clock.advance(600);
    grouper.add(one(warn({ leaseId: 'b', environment: 'staging' })));
    grouper.add(one(warn({ leaseId: 'c' })));
    expect(grouper.pending()).toBe(2);
    clock.advance(400);
    expect(emitted.map((e) => [e.group.environment, e.group.warnings.map((w) => w.leaseId)])).toEqual([
      ['production', ['a', 'c']],
    ]);
    clock.advance(600);
    expect(emitted.map((e) => e.group.environment)).toEqual(['production', 'staging']);
    expect(emitted[1]!.notification.title).toBe('Lease for my-api/staging expires in 2 h');
  });

  it('starts a new group for warnings after a group was emitted', () => {
    const { clock, emitted, grouper, warn } = setup();
    grouper.add(one(warn({ leaseId: 'a' })));
    clock.advance(500);
    grouper.add(one(warn({ leaseId: 'b' })));
    clock.advance(500);
    expect(emitted).toHaveLength(2);
  });

  it('keeps one entry per lease, with its latest data, and forgets removed leases', () => {
    const { clock, emitted, grouper, warn } = setup();
    grouper.add(one(warn({ leaseId: 'a', reason: 'first' })));
    grouper.add(one(warn({ leaseId: 'b' })));
    grouper.add(one(warn({ leaseId: 'a', reason: 'renewed' })));
    grouper.remove('b');
    clock.advance(500);
    expect(emitted).toHaveLength(1);
    expect(emitted[0]!.group.warnings.map((w) => [w.leaseId, w.reason])).toEqual([['a', 'renewed']]);
  });

  it('cancels a group whose leases were all removed', () => {
    const { clock, emitted, grouper, warn } = setup();
    grouper.add(one(warn({ leaseId: 'a' })));
    grouper.remove('a');
    expect(clock.pending()).toBe(0);
    clock.advance(1_000);
    expect(emitted).toEqual([]);
  });

  it('flush() emits at once and stop() drops', () => {
    const { clock, emitted, grouper, warn } = setup();
    grouper.add(one(warn({ leaseId: 'a' })));
    grouper.flush();
    expect(emitted).toHaveLength(1);
    grouper.add(one(warn({ leaseId: 'b' })));
    grouper.stop();
    clock.advance(1_000);
    expect(emitted).toHaveLength(1);
    expect(clock.pending()).toBe(0);
  });

  it('survives an emit callback that throws', () => {
    const clock = fakeTimers();
    const errors: unknown[] = [];
    const grouper = new WarningGrouper({
      ...clock,
      emit: () => {
        throw new Error('boom');
      },
      onError: (e) => errors.push(e),
    });
    grouper.add(one({ project: 'p', environment: 'e', leaseId: 'x', scope: [], reason: '', expiresAt: clock.now() }));
    clock.advance(500);
    expect(errors).toHaveLength(1);
    expect(grouper.pending()).toBe(0);
  });
});
