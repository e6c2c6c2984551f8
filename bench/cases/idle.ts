import { sleep } from '../../test/helpers/daemon';
import { benchDaemon, median, round } from '../lib';

/** Figures of the idle case, as written to latest.json. */
export interface IdleResult {
  /** VmRSS of an empty daemon once ready and settled (median of `runs` fresh daemons). */
  rss_mb: number;
  runs: number;
}

/** Starts `runs` empty daemons one after another, each in a fresh data dir, and reads their RSS once settled. */
export async function idleCase(
  runs: number,
  settleMs = 2000,
): Promise<IdleResult & { at_ready_mb: number[]; settled_mb: number[] }> {
  const atReady: number[] = [];
  const settled: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { daemon, place } = await benchDaemon('idle');
    try {
      atReady.push(daemon.rssMb());
      await sleep(settleMs);
      settled.push(daemon.rssMb());
    } finally {
      await daemon.stop();
      place.cleanup();
    }
  }
  return { rss_mb: round(median(settled), 1), runs, at_ready_mb: atReady, settled_mb: settled };
}
