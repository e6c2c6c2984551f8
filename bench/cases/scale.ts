import path from 'node:path';
import type { DaemonEvent } from '../../daemon/api';
import { createDesktopNotifier } from '../../daemon/notify';
import { createServices, EventBus } from '../../daemon/services';
import { Store } from '../../daemon/store';
import { sleep, tempPlace } from '../../test/helpers/daemon';
import { coldStartFloor } from '../baselines';
import { benchDaemon, median, round, waitFor } from '../lib';

/** Figures of the scale case, as written to latest.json. */
export interface ScaleResult {
  active_leases: number;
  cold_start_ms: number;
  /** A bare Node server's cold start reading and checking the same lease table files (information). */
  floor_ms: number;
  rss_mb: number;
  list_page_ms: number;
  /** null when no LeaseExpired events arrived (no expiry scheduler in this daemon). */
  expire_10k_ms: number | null;
}

/**
 * Writes a data dir holding `total` active leases through the daemon's own Store and services
 * (the real code path: sealed secrets, keyed token hashes, audit chain, durable commits).
 * The last `expiring` of them all expire at the same instant `expireAt`.
 */
export async function generate(home: string, total: number, expiring: number, marginMs: number) {
  // The data dir is written 600 s "in the past" (the store's clock never runs backwards), and
  // frozen while the expiring leases are issued, so they all expire at one instant.
  const offset = marginMs - 600_000;
  let frozen: number | null = null;
  const clock = () => frozen ?? Date.now() + offset;
  const store = await Store.open(home, { time: { wall: clock, monotonic: clock } });
  const { projects, secrets, leases, lifecycle } = createServices(
    { store, events: new EventBus(), log: () => undefined },
    createDesktopNotifier({ log: () => undefined, env: { PATH: '' } }),
    { retentionMs: 30 * 86_400_000, backupsKept: 1 },
  );
  const project = 'scale';
  await projects.createProject({ slug: project, name: 'Scale' });
  for (const environment of ['prod', 'staging']) {
    await projects.createEnvironment({ project, slug: environment, name: environment });
    await secrets.import({ project, environment, dotenv: 'API_KEY=a\nDB_URL=b\nSTRIPE_KEY=c\n' });
  }
  const batch = 10_000;
  const issue = async (count: number, ttlSeconds: number, environment: (i: number) => string) => {
    for (let done = 0; done < count; done += batch) {
      const n = Math.min(batch, count - done);
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          leases.issue({
            project,
            environment: environment(done + i),
            scope: ['API_KEY', 'DB_*'],
            ttlSeconds,
            reason: `scale lease ${done + i}`,
          }),
        ),
      );
    }
  };
  await issue(total - expiring, 7 * 86_400, (i) => (i % 2 ? 'prod' : 'staging'));
  frozen = clock();
  const expireAt = frozen + 600_000;
  const ids = new Set<string>();
  const before = new Set(store.state.leases.keys());
  await issue(expiring, 600, () => 'prod');
  for (const id of store.state.leases.keys()) if (!before.has(id)) ids.add(id);
  lifecycle.stop();
  await store.close();
  return { expireAt, ids };
}

/** 100,000 active leases: cold start, RSS, first page of the list, 10,000 expiring in the same second. */
export async function scaleCase(
  total = 100_000,
  expiring = 10_000,
): Promise<ScaleResult & { generate_ms: number; expired_events: number; ready_before_expiry_ms: number }> {
  const place = tempPlace('bella-bench-scale');
  const started = Date.now();
  // Margin for the cold start and the list measurements, so the 10k expire while the daemon runs.
  const { expireAt, ids } = await generate(place.home, total, expiring, 20_000);
  const generateMs = Date.now() - started;
  const t0 = performance.now();
  const { daemon } = await benchDaemon('scale', place);
  const coldStart = performance.now() - t0;
  try {
    const readyBefore = expireAt - Date.now();
    const expiredAt = new Map<string, number>();
    const stop = await daemon.client.subscribe((event: DaemonEvent) => {
      if (event.type !== 'LeaseExpired') return;
      const now = Date.now();
      for (const id of event.leaseIds) if (ids.has(id) && !expiredAt.has(id)) expiredAt.set(id, now);
    });
    const status = await daemon.client.call('status', {});
    const rss: number[] = [daemon.rssMb()];
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const page = await daemon.client.call('listLeases', {});
      times.push(performance.now() - t);
      if (page.leases.length !== 500) throw new Error(`list returned ${page.leases.length} leases, expected 500`);
    }
    rss.push(daemon.rssMb());
    let expire10k: number | null = null;
    if (readyBefore > 0) {
      await sleep(Math.max(0, expireAt - Date.now()));
      const all = await waitFor(() => expiredAt.size === ids.size, 15_000);
      if (all) expire10k = Math.max(...expiredAt.values()) - expireAt;
      else if (expiredAt.size > 0) expire10k = Math.max(...expiredAt.values()) - expireAt;
    }
    rss.push(daemon.rssMb());
    stop();
    await daemon.stop();
    const floors: number[] = [];
    for (let i = 0; i < 3; i++) floors.push(await coldStartFloor(path.join(place.home, 'lease-table'), place.socket));
    return {
      active_leases: status.counts.activeLeases,
      cold_start_ms: round(coldStart, 0),
      floor_ms: round(median(floors), 0),
      rss_mb: Math.max(...rss),
      list_page_ms: round(median(times), 1),
      expire_10k_ms: expiredAt.size === ids.size ? expire10k : null,
      generate_ms: generateMs,
      expired_events: expiredAt.size,
      ready_before_expiry_ms: readyBefore,
    };
  } finally {
    await daemon.stop();
    place.cleanup();
  }
}
