const DAY_MS = 86_400_000;
/** The `YYYY-MM-DDT` of recent days, by day number: the part of an ISO time that rarely changes. */
const dayPrefixes = new Map<number, string>();

const twoDigits = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

/**
 * ISO 8601 time from epoch milliseconds, exactly as `Date.prototype.toISOString` writes it (which
 * it calls for the first time of each day, and for what is not a whole number of milliseconds of
 * years 0–9999): an issue answers with several of these, and the builtin costs several times more.
 */
export const iso = (ms: number): string => {
  if (!Number.isInteger(ms)) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  const prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    const text = new Date(ms).toISOString();
    if (text.length !== 24) return text;
    if (dayPrefixes.size >= 64) dayPrefixes.clear();
    dayPrefixes.set(day, text.slice(0, 11));
    return text;
  }
  let t = ms - day * DAY_MS;
  const milli = t % 1000;
  t = (t - milli) / 1000;
  const second = t % 60;
  t = (t - second) / 60;
  const minute = t % 60;
  const hour = (t - minute) / 60;
  const millis = milli < 10 ? `00${milli}` : milli < 100 ? `0${milli}` : `${milli}`;
  return `${prefix}${twoDigits(hour)}:${twoDigits(minute)}:${twoDigits(second)}.${millis}Z`;
};
