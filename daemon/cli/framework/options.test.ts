import { describe, expect, it } from 'vitest';
import { UsageError } from './errors';
import { durationOption, integerOption, listOption, timeOption } from './options';

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
