import { describe, expect, it } from 'vitest';
import { auditToCsv } from './export';
import { formatCountdown, formatRelative, plainDuration, policyPreview } from './format';
import { parseRoute, routeHash } from './route';
import { parseScopeText } from './scope';
import type { AuditEntry } from '../../../daemon/api/types';

describe('format', () => {
  it('counts down in the two largest units', () => {
    expect(formatCountdown(42_000)).toBe('42s');
    expect(formatCountdown(12 * 60_000 + 5_000)).toBe('12m 05s');
    expect(formatCountdown(3 * 3600_000 + 7 * 60_000)).toBe('3h 07m');
    expect(formatCountdown(2 * 86400_000 + 4 * 3600_000)).toBe('2d 4h');
    expect(formatCountdown(-5)).toBe('0s');
  });

  it('puts a policy into plain words', () => {
    expect(policyPreview(86400, 7200)).toBe('Tokens last 24 h; you are warned 2 h before they expire.');
    expect(plainDuration(7 * 86400)).toBe('7 days');
    expect(plainDuration(5400)).toBe('1 h 30 min');
    expect(plainDuration(900)).toBe('15 min');
    expect(plainDuration(30)).toBe('30 s');
  });

  it('says just now for a time past the app clock, which ticks once a second (and later under load)', () => {
    const now = Date.parse('2026-12-03T11:14:13.000Z');
    expect(formatRelative('2026-12-03T11:14:14.400Z', now)).toBe('just now');
    expect(formatRelative('2026-12-03T11:14:00.000Z', now)).toBe('just now');
    expect(formatRelative('2026-12-03T11:09:13.000Z', now)).toBe('5 min ago');
    // Far ahead (a clock set wrong somewhere): the time itself, not a made-up "ago".
    expect(formatRelative('2026-12-03T12:14:13.000Z', now)).not.toMatch(/just now|ago/);
  });
});

describe('scope', () => {
  it('splits typed text into entries', () => {
    expect(parseScopeText(' A, B  A\nC ')).toEqual(['A', 'B', 'C']);
  });
});

describe('auditToCsv', () => {
  it('quotes fields and neutralises spreadsheet formulas', () => {
    const entry = {
      seq: 1,
      ts: '2026-01-01T00:00:00.000Z',
      event: 'LeaseIssued',
      outcome: 'Success',
      actor: 'owner',
      keys: ['A', 'B'],
      reason: '=HYPERLINK("x"), "quoted"',
      hash: 'h',
    } as AuditEntry;
    const lines = auditToCsv([entry]).split('\r\n');
    expect(lines[0]).toBe(
      'seq,ts,event,outcome,actor,project,environment,leaseId,keys,reason,message,source,count,hash',
    );
    expect(lines[1]).toBe(
      '1,2026-01-01T00:00:00.000Z,LeaseIssued,Success,owner,,,,A B,"\'=HYPERLINK(""x""), ""quoted""",,,,h',
    );
  });
});

describe('route', () => {
  it('round-trips through the location hash', () => {
    const r = { project: 'my-api', environment: 'production', tab: 'leases' as const };
    expect(parseRoute(routeHash(r))).toEqual(r);
    expect(parseRoute('#/p/my-api')).toEqual({ project: 'my-api', tab: 'secrets' });
    expect(parseRoute('#/p/x/e/y/bogus').tab).toBe('secrets');
  });
});
