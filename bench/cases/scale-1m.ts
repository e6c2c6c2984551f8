import { execFileSync } from 'node:child_process';
import { readLog, tempPlace } from '../../test/helpers/daemon';
import { benchDaemon, median, round, waitFor } from '../lib';
import { generate } from './scale';

/** Figures of the scale_1m case, as written to latest.json. */
export interface Scale1mResult {
  cold_start_ms: number;
  rss_mb: number;
  list_page_ms: number;
}

/** 1,000,000 active leases (written by the daemon's own Store and services): cold start, RSS, first page. */
export async function scale1mCase(total = 1_000_000): Promise<
  Scale1mResult & {
    active_leases: number;
    generate_ms: number;
    data_mb: number;
    serving_ms: number | null;
    backup_done_ms: number | null;
  }
> {
  const place = tempPlace('bella-bench-scale1m');
  try {
    const started = Date.now();
    await generate(place.home, total, 0, 0);
    const generateMs = Date.now() - started;
    const dataMb = Number(execFileSync('du', ['-sm', place.home], { encoding: 'utf8' }).split('\t')[0]);
    process.stderr.write(
      `bench: scale_1m: ${total} leases generated in ${(generateMs / 1000).toFixed(1)} s (${dataMb} MB)\n`,
    );
    const t0 = performance.now();
    const spawnedAt = Date.now();
    const { daemon } = await benchDaemon('scale_1m', place);
    const coldStart = performance.now() - t0;
    try {
      // From the daemon's log: when it began serving, and when its start-up backup (a snapshot
      // written while it serves, when backups/ has none from the last day) was done.
      const at = (pattern: RegExp) => {
        const line = readLog(place.logFile)
          .split('\n')
          .find((l) => pattern.test(l));
        return line ? Date.parse(line.slice(0, 24)) - spawnedAt : null;
      };
      const servingMs = at(/ bella daemon .* serving /);
      const status = await daemon.client.call('status', {});
      const rss: number[] = [daemon.rssMb()];
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        const page = await daemon.client.call('listLeases', {});
        times.push(performance.now() - t);
        if (page.leases.length !== 500) throw new Error(`list returned ${page.leases.length} leases, expected 500`);
        rss.push(daemon.rssMb());
      }
      const backupDone = / maintenance: start-up backup: /;
      await waitFor(() => at(backupDone) !== null, 120_000, 100);
      rss.push(daemon.rssMb());
      const backupMs = at(backupDone);
      return {
        cold_start_ms: round(coldStart, 0),
        rss_mb: Math.max(...rss),
        list_page_ms: round(median(times), 1),
        active_leases: status.counts.activeLeases,
        generate_ms: generateMs,
        data_mb: dataMb,
        serving_ms: servingMs,
        backup_done_ms: backupMs,
      };
    } finally {
      await daemon.stop();
    }
  } finally {
    place.cleanup();
  }
}
