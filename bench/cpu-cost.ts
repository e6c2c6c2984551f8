import path from 'node:path';
import { rawRequest, seed } from '../test/helpers/daemon';
import { startDurableBaseline, type DurableWork } from './baselines';
import { ISSUE_RECORD_BYTES, issueBody } from './cases/issue';
import { READ_RECORD_BYTES } from './cases/reads';
import { answerHeaders, benchDaemon, cannon, cpuUs, median, round } from './lib';

/**
 * CPU time per request of the daemon and of the durable baseline doing the same work, for a fixed
 * number of requests: the process's own user+system time, which other work on a shared machine
 * moves far less than throughput (no hardware counters in this VM for instruction counts).
 * Usage: npx tsx bench/cpu-cost.ts issue|reads [requests] [repeats]
 */

type Request = { method: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string };

/** Median CPU µs per request of `pid` over `repeats` runs of `count` requests at 64 connections. */
async function perRequest(pid: number, socketPath: string, request: Request, count: number, repeats: number) {
  const load = (amount: number) =>
    cannon({ url: `http://localhost${request.path}`, socketPath, connections: 64, amount, ...request });
  await load(Math.min(2000, count));
  const runs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const before = cpuUs(pid);
    const out = await load(count);
    if (out.non2xx || out.errors) throw new Error(`${out.non2xx} non-2xx answers and ${out.errors} errors`);
    runs.push((cpuUs(pid) - before) / count);
  }
  return { median_us: round(median(runs), 1), runs_us: runs.map((r) => round(r, 1)) };
}

async function main(): Promise<void> {
  const which = process.argv[2];
  const count = Number(process.argv[3] ?? 5000);
  const repeats = Number(process.argv[4] ?? 3);
  if (which !== 'issue' && which !== 'reads')
    throw new Error('usage: bench/cpu-cost.ts issue|reads [requests] [repeats]');
  const { daemon, place } = await benchDaemon(`cpu-${which}`);
  try {
    const { project, environment } = await seed(daemon.client);
    let request: Request;
    let work: DurableWork;
    if (which === 'issue') {
      const body = issueBody(project, environment);
      request = { method: 'POST', path: '/v1/leases', headers: { 'content-type': 'application/json' }, body };
      work = { kind: 'chain', bytes: ISSUE_RECORD_BYTES };
    } else {
      const issued = await daemon.client.call('issueLease', {
        project,
        environment,
        scope: ['API_KEY', 'DB_URL', 'STRIPE_KEY'],
        ttlSeconds: 3600,
        reason: 'bench reads',
      });
      request = { method: 'GET', path: '/v1/secrets', headers: { authorization: `Bearer ${issued.token}` } };
      work = { kind: 'append', bytes: READ_RECORD_BYTES };
    }
    const sample = await rawRequest(daemon.socket, request);
    if (sample.status >= 300) throw new Error(`${which}: ${sample.status} ${sample.body}`);
    const bella = await perRequest(daemon.pid, daemon.socket, request, count, repeats);
    const socket = path.join(place.root, 's', 'durable.sock');
    const answer = { status: sample.status, headers: answerHeaders(sample.headers), body: sample.body };
    const baseline = await startDurableBaseline({ socket }, path.join(place.root, 'durable.log'), work, answer);
    let base;
    try {
      base = await perRequest(baseline.pid, socket, request, count, repeats);
    } finally {
      await baseline.stop();
    }
    console.log(
      JSON.stringify({
        case: which,
        requests: count,
        bella_cpu_us: bella,
        baseline_durable_cpu_us: base,
        cpu_ratio: round(base.median_us / bella.median_us, 3),
      }),
    );
  } finally {
    await daemon.stop();
    place.cleanup();
  }
}

await main();
