import { seed } from '../../test/helpers/daemon';
import { benchDaemon, cannon, round } from '../lib';

/** Figures of the issue case, as written to latest.json. */
export interface IssueResult {
  leases_per_s: number;
  p99_ms: number;
  active_leases: number;
  concurrency: number;
}

/** Durable lease issues at 64 concurrent clients over 10,000 active leases. */
export async function issueCase(durationS: number, preload = 10_000): Promise<IssueResult> {
  const concurrency = 64;
  const { daemon, place } = await benchDaemon('issue');
  try {
    const { project, environment } = await seed(daemon.client);
    const body = JSON.stringify({
      project,
      environment,
      scope: ['API_KEY'],
      ttlSeconds: 86_400,
      reason: 'bench issue',
    });
    const request = {
      url: 'http://localhost/v1/leases',
      socketPath: daemon.socket,
      method: 'POST' as const,
      headers: { 'content-type': 'application/json' },
      body,
      connections: concurrency,
    };
    const warm = await cannon({ ...request, amount: preload });
    if (warm.non2xx || warm.errors) throw new Error(`issue preload: ${warm.non2xx} non-2xx, ${warm.errors} errors`);
    const active = (await daemon.client.call('status', {})).counts.activeLeases;
    const run = await cannon({ ...request, duration: durationS });
    if (run.non2xx || run.errors) throw new Error(`issue: ${run.non2xx} non-2xx, ${run.errors} errors`);
    return {
      leases_per_s: round(run['2xx'] / run.duration, 0),
      p99_ms: run.latency.p99,
      active_leases: active,
      concurrency,
    };
  } finally {
    await daemon.stop();
    place.cleanup();
  }
}
