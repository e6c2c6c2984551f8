import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../api/durations';

/** Parses a duration option (`30s 15m 4h 7d 2w 1h30m`, bare number = minutes) into seconds. */
export function durationOption(name: string): (value: string) => number {
  return (value) => {
    const seconds = parseDuration(value);
    if (seconds === undefined) {
      throw new InvalidArgumentError(`${name} must be a duration such as 30s, 15m, 4h, 7d or 1h30m.`);
    }
    return seconds;
  };
}

/** `bella issue --ttl`: minutes from 1 to 480 (a duration such as 2h is accepted too); returns seconds. */
export function issueTtlOption(value: string): number {
  const text = value.trim();
  const seconds = /^[+-]?\d+$/.test(text) ? Number(text) * 60 : parseDuration(text);
  if (seconds === undefined || !Number.isSafeInteger(seconds) || seconds < 60 || seconds > 480 * 60) {
    throw new InvalidArgumentError('--ttl is in minutes, from 1 to 480 (e.g. --ttl 30 or --ttl 2h).');
  }
  return seconds;
}

/** Splits a comma-separated list option, dropping blanks. */
export function listOption(name: string): (value: string) => string[] {
  return (value) => {
    const items = value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (items.length === 0) throw new InvalidArgumentError(`${name} needs at least one entry, e.g. "A,B".`);
    return items;
  };
}
