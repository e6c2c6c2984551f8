import { describe, expect, it } from 'vitest';
import { UsageError } from '../framework/errors';
import { issueTtlOption } from './issue';

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
