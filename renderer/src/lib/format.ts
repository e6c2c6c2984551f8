const MINUTE = 60;
const HOUR = 3600;
const DAY = 86400;

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** A live countdown such as `2d 4h`, `3h 12m`, `12m 05s` or `42s`. */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(total / DAY);
  const h = Math.floor((total % DAY) / HOUR);
  const m = Math.floor((total % HOUR) / MINUTE);
  const s = total % MINUTE;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${pad(m)}m`;
  if (m > 0) return `${m}m ${pad(s)}s`;
  return `${s}s`;
}

/** Seconds in plain words: `24 h`, `2 h 30 min`, `7 days`, `45 s`. */
export function plainDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 2 * DAY && s % DAY === 0) return `${s / DAY} days`;
  if (s >= HOUR) {
    const h = Math.floor(s / HOUR);
    const m = Math.round((s % HOUR) / MINUTE);
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  if (s >= MINUTE) {
    const m = Math.floor(s / MINUTE);
    const rest = s % MINUTE;
    return rest ? `${m} min ${rest} s` : `${m} min`;
  }
  return `${s} s`;
}

/** The plain-words preview of a lease policy. */
export function policyPreview(ttlSeconds: number, warnBeforeSeconds: number): string {
  return `Tokens last ${plainDuration(ttlSeconds)}; you are warned ${plainDuration(warnBeforeSeconds)} before they expire.`;
}

/** Seconds past the app's clock still read as `just now`. */
const FUTURE_SLACK = 60;

/** `just now`, `5 min ago`, `3 h ago`, `yesterday`, or a short date. */
export function formatRelative(iso: string, now: number): string {
  const t = Date.parse(iso);
  const diff = Math.round((now - t) / 1000);
  // `now` is the app's clock (lib/now.ts), a tick that may lag the daemon by a second or more:
  // a time just past it is what the daemon just did.
  if (diff < -FUTURE_SLACK) return formatDateTime(iso);
  if (diff < 45) return 'just now';
  if (diff < HOUR) return `${Math.max(1, Math.round(diff / MINUTE))} min ago`;
  if (diff < DAY) return `${Math.round(diff / HOUR)} h ago`;
  if (diff < 2 * DAY) return 'yesterday';
  return formatDate(iso);
}

/** A short local date: `28 Nov 2026`. */
export function formatDate(iso: string): string {
  return new Date(iso).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
}

/** A local date and time: `28 Nov 2026, 14:05:09`. */
export function formatDateTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}
