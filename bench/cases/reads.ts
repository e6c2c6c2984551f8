import path from 'node:path';
import { rawRequest, seed } from '../../test/helpers/daemon';
import { benchDaemon, cannon, round, startBaselineServer } from '../lib';

/** Figures of the reads case, as written to latest.json. */
export interface ReadsResult {
  bella_rps: number;
  baseline_rps: number;
  ratio: number;
  p50_ms: number;
  p99_ms: number;
  connections: number;
}

/** Audited token reads of 3 keys at 64 connections, against a bare server returning the same bytes. */
export async function readsCase(durationS: number): Promise<ReadsResult & { baseline_p99_ms: number }> {
  const connections = 64;
  const { daemon, place } = await benchDaemon('reads');
  try {
    const { project, environment } = await seed(daemon.client);
    const issued = await daemon.client.call('issueLease', {
      project,
      environment,
      scope: ['API_KEY', 'DB_URL', 'STRIPE_KEY'],
      ttlSeconds: 3600,
      reason: 'bench reads',
    });
    const headers = { authorization: `Bearer ${issued.token}` };
    const sample = await rawRequest(daemon.socket, { method: 'GET', path: '/v1/secrets', headers });
    if (sample.status !== 200) throw new Error(`token read failed: ${sample.status} ${sample.body}`);
    const baseSocket = path.join(place.root, 's', 'baseline.sock');
    const baseline = await startBaselineServer(baseSocket, sample.body, String(sample.headers['content-type']));
    const run = (socketPath: string) =>
      cannon({
        url: 'http://localhost/v1/secrets',
        socketPath,
        connections,
        duration: durationS,
        headers,
      });
    let base;
    try {
      await cannon({ url: 'http://localhost/', socketPath: baseSocket, connections, duration: 1 });
      base = await run(baseSocket);
    } finally {
      await baseline.stop();
    }
    await cannon({ url: 'http://localhost/v1/secrets', socketPath: daemon.socket, connections, duration: 1, headers });
    const bella = await run(daemon.socket);
    if (bella.non2xx || bella.errors) {
      throw new Error(`reads: ${bella.non2xx} non-2xx answers and ${bella.errors} errors from the daemon`);
    }
    const bellaRps = bella['2xx'] / bella.duration;
    const baseRps = base['2xx'] / base.duration;
    return {
      bella_rps: round(bellaRps, 0),
      baseline_rps: round(baseRps, 0),
      ratio: round(bellaRps / baseRps, 3),
      p50_ms: bella.latency.p50,
      p99_ms: bella.latency.p99,
      connections,
      baseline_p99_ms: base.latency.p99,
    };
  } finally {
    await daemon.stop();
    place.cleanup();
  }
}
