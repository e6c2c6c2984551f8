// Maintenance's two wall-clock schedules (hourly at :07, daily at 03:23, local time) on plain
// timers. node-cron did this before and cost an idle daemon ~11 MB: its module, and the ICU data
// that its Intl.DateTimeFormat pages in on every match (issue 21).

/** A running schedule. */
export interface Scheduled {
  /** No further run; resolves once a run under way has finished. */
  stop(): Promise<void>;
}

/** A timer waits at most this long before it looks at the wall clock again (suspend, clock steps). */
export const MAX_WAIT_MS = 10 * 60_000;

/** The first local time after `from` whose minute is `minute` (seconds zero). */
export function nextHourly(from: number, minute: number): number {
  const at = new Date(from);
  at.setMinutes(minute, 0, 0);
  if (at.getTime() <= from) at.setHours(at.getHours() + 1, minute, 0, 0);
  return at.getTime();
}

/** The first local time after `from` that is `hour`:`minute` (seconds zero). */
export function nextDaily(from: number, hour: number, minute: number): number {
  const at = new Date(from);
  at.setHours(hour, minute, 0, 0);
  if (at.getTime() <= from) {
    at.setDate(at.getDate() + 1);
    at.setHours(hour, minute, 0, 0);
  }
  return at.getTime();
}

/**
 * Runs `job` at each time `next` names, from now on. Runs never overlap: a time that comes while
 * the job still runs is skipped (node-cron's `noOverlap`). The timer does not keep the process
 * alive, and a failing job is the job's business (it logs; the schedule goes on).
 */
export function schedule(next: (from: number) => number, job: () => Promise<void>): Scheduled {
  let due = next(Date.now());
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const arm = () => {
    if (stopped) return;
    timer = setTimeout(tick, Math.max(0, Math.min(due - Date.now(), MAX_WAIT_MS)));
    timer.unref();
  };
  const tick = () => {
    const now = Date.now();
    if (now < due) return arm();
    due = next(now);
    running ??= job()
      .catch(() => undefined)
      .finally(() => (running = undefined));
    arm();
  };
  arm();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
