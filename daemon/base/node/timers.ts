/**
 * The timer seam of the daemon's schedulers (expiry deadlines, warning grouping, channel
 * delivery): real timers that never keep the process alive by themselves. Tests pass fakes.
 */
export const unrefTimers = {
  setTimer(fn: () => void, ms: number): unknown {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return handle;
  },
  clearTimer(handle: unknown): void {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
