const UNIT_SECONDS = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 } as const;
/** The units, largest first, as formatDuration walks them (no array made per call: it runs at every issue). */
const UNITS = Object.entries(UNIT_SECONDS);
const DURATION = /^(?:\d+[wdhms])+$/;
const PART = /(\d+)([wdhms])/g;

/**
 * Parses `30s 15m 4h 7d 2w 1h30m` into seconds; a bare number means minutes.
 * Returns `undefined` for anything else (including zero and negatives), so callers can
 * word their own error.
 */
export function parseDuration(text: string): number | undefined {
  const input = text.trim().toLowerCase();
  let seconds = 0;
  if (/^\d+$/.test(input)) {
    seconds = Number(input) * 60;
  } else if (DURATION.test(input)) {
    for (const [, n, unit] of input.matchAll(PART)) {
      seconds += Number(n) * UNIT_SECONDS[unit as keyof typeof UNIT_SECONDS];
    }
  } else {
    return undefined;
  }
  return Number.isSafeInteger(seconds) && seconds > 0 ? seconds : undefined;
}

/** Formats seconds as the largest units that fit, at most two: `1h30m`, `7d`, `45s`. */
export function formatDuration(totalSeconds: number): string {
  let rest = Math.max(0, Math.round(totalSeconds));
  if (rest === 0) return '0s';
  let out = '';
  let parts = 0;
  for (const [unit, size] of UNITS) {
    if (unit === 'w' && rest % size !== 0) continue;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      parts++;
      rest -= n * size;
    }
    if (parts === 2) break;
  }
  return out;
}
