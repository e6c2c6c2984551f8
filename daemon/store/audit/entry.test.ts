import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../api';
import { storedEntry, type AuditInput } from './entry';

describe('storedEntry: an audit input as the trail stores it', () => {
  const input: AuditInput = {
    event: 'LeaseIssued',
    outcome: 'Success',
    actor: 'owner',
    project: 'app',
    environment: 'dev',
    leaseId: 'abc',
    keys: ['A'],
    reason: 'r',
    message: 'ttl 15m',
  };
  const now = '2026-12-03T15:00:00.000Z';

  it('puts seq and ts first, the fields in their order, then the commit; the batch time without an `at`', () => {
    expect(JSON.stringify(storedEntry(input, 7, now, 3))).toBe(
      '{"seq":7,"ts":"2026-12-03T15:00:00.000Z","event":"LeaseIssued","outcome":"Success","actor":"owner","project":"app","environment":"dev","leaseId":"abc","keys":["A"],"reason":"r","message":"ttl 15m","commit":3}',
    );
    expect(Object.keys(storedEntry(input, 7, now, undefined))).not.toContain('commit');
    // The input is copied, not kept: the entry does not change with it.
    const entry = storedEntry(input, 7, now, undefined);
    expect(entry).not.toBe(input);
    expect(input).not.toHaveProperty('seq');
  });

  it('writes an entry’s own time as its ts and never keeps `at`', () => {
    const at = Date.parse('2026-12-01T08:00:00.000Z');
    const entry = storedEntry({ ...input, at }, 8, now, undefined);
    expect(entry.ts).toBe('2026-12-01T08:00:00.000Z');
    expect(entry).not.toHaveProperty('at');
    // An `at` given as undefined is the batch's time, and is not kept either.
    const none = storedEntry({ ...input, at: undefined }, 9, now, 4);
    expect(none.ts).toBe(now);
    expect(none).not.toHaveProperty('at');
    expect(Object.keys(none)).toEqual(Object.keys(storedEntry(input, 9, now, 4)));
  });
});

describe('formatDuration', () => {
  it('writes the largest units that fit, at most two', () => {
    expect([0, 45, 900, 5400, 86400, 604800, 691200, 90061].map(formatDuration)).toEqual([
      '0s',
      '45s',
      '15m',
      '1h30m',
      '1d',
      '1w',
      '8d',
      '1d1h',
    ]);
  });
});
