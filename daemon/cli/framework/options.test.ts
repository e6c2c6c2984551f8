import { describe, expect, it } from 'vitest';
import { UsageError } from './errors';
import { durationOption, integerOption, issueTtlOption, listOption, timeOption } from './options';

describe('issueTtlOption', () => {
  it('reads minutes from 1 to 480 and durations within that range', () => {
    expect(issueTtlOption('1')).toBe(60);
    expect(issueTtlOption('30')).toBe(1800);
    expect(issueTtlOption('480')).toBe(480 * 60);
    expect(issueTtlOption('2h')).toBe(7200);
    expect(issueTtlOption('1h30m')).toBe(5400);
  });

  it.each(['abc', '0', '-5', '481', '9h', '30s', '', '1.5'])('refuses %j', (value) => {
    expect(() => issueTtlOption(value)).toThrow(UsageError);
  });
});

describe('durationOption', () => {
  it('parses durations and names the option when refusing one', () => {
    expect(durationOption('--ttl')('4h')).toBe(14400);
    expect(durationOption('--ttl')('30')).toBe(1800);
    expect(() => durationOption('--ttl')('soon')).toThrow(/--ttl must be a duration/);
  });
});

describe('listOption', () => {
  it('splits on commas and drops blanks', () => {
    expect(listOption('--scope')('DATABASE_URL, REDIS_URL,')).toEqual(['DATABASE_URL', 'REDIS_URL']);
    expect(() => listOption('--scope')(' , ')).toThrow(/--scope needs at least one/);
  });
});

describe('timeOption', () => {
  const now = () => Date.parse('2026-11-28T12:00:00Z');
  it('takes an ISO time or a duration ago', () => {
    expect(timeOption('--since', now)('2h')).toBe('2026-11-28T10:00:00.000Z');
    expect(timeOption('--since', now)('2026-11-27T08:00:00+01:00')).toBe('2026-11-27T07:00:00.000Z');
    expect(() => timeOption('--since', now)('yesterday')).toThrow(UsageError);
  });
});

describe('integerOption', () => {
  it('takes whole numbers in range and names the option otherwise', () => {
    expect(integerOption('--limit', 1)('20')).toBe(20);
    expect(() => integerOption('--limit', 1)('0')).toThrow(/--limit must be a whole number of at least 1/);
    expect(() => integerOption('--limit', 1, 10)('1.5')).toThrow(/from 1 to 10/);
  });
});
