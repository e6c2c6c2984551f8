import { parseDuration } from '../../api/durations';
import { UsageError } from './errors';

/** Parses a duration option (`30s 15m 4h 7d 2w 1h30m`, bare number = minutes) into seconds. */
export function durationOption(flag: string): (value: string) => number {
  return (value) => {
    const seconds = parseDuration(value);
    if (seconds === undefined) {
      throw new UsageError(`${flag} must be a duration such as 30s, 15m, 4h, 7d or 1h30m, not '${value}'`);
    }
    return seconds;
  };
}

/** Splits a comma-separated list option, dropping blanks. */
export function listOption(flag: string): (value: string) => string[] {
  return (value) => {
    const items = value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (items.length === 0) throw new UsageError(`${flag} needs at least one entry, e.g. "A,B"`);
    return items;
  };
}

/** A whole number from `min` to `max`. */
export function integerOption(flag: string, min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
      throw new UsageError(`${flag} must be a whole number ${range}, not '${value}'`);
    }
    return n;
  };
}

/**
 * A time option (`--since`, `--until`): an ISO 8601 time, or a duration meaning that long ago
 * (`2h`, `7d`). Returns ISO.
 */
export function timeOption(flag: string, now: () => number = Date.now): (value: string) => string {
  return (value) => {
    const seconds = parseDuration(value);
    if (seconds !== undefined) return new Date(now() - seconds * 1000).toISOString();
    if (/^\d{4}-\d{2}-\d{2}/.test(value.trim())) {
      const t = Date.parse(value.trim());
      if (!Number.isNaN(t)) return new Date(t).toISOString();
    }
    throw new UsageError(`${flag} takes an ISO time (2026-11-28T09:00:00Z) or a duration ago (2h, 7d), not '${value}'`);
  };
}
