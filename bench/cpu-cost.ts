import path from 'node:path';
import { listenerFiles } from '../daemon/services/listener/service';
import { rawRequest, seed } from '../test/helpers/daemon';
import { startDurableBaseline, type BaselineListen, type DurableWork } from './baselines';
import { ISSUE_RECORD_BYTES, issueBody } from './cases/issue';
import { READ_RECORD_BYTES, readLease } from './cases/reads';
import { answerHeaders, benchDaemon, cannon, cpuUs, freePort, median, round } from './lib';

/**
 * CPU time per request of the daemon and of the durable baseline doing the same work, for a fixed
 * number of requests: the process's own user+system time, which other work on a shared machine
 * moves far less than throughput (no hardware counters in this VM for instruction counts).
 * `remote_reads` reads over the TLS listener (and the durable baseline over HTTPS, same certificate).
 * Usage: npx tsx bench/cpu-cost.ts issue|reads|remote_reads [requests] [repeats]
 */

type Request = { method: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string };

/** Where requests go: a unix socket, or a TLS port on 127.0.0.1. */
type Target = { socket: string } | { port: number };

/** Median CPU µs per request of `pid` over `repeats` runs of `count` requests at 64 connections. */
async function perRequest(pid: number, target: Target, request: Request, count: number, repeats: number) {
  const where =
    'socket' in target
      ? { url: `http://localhost${request.path}`, socketPath: target.socket }
      : { url: `https://127.0.0.1:${target.port}${request.path}`, servername: 'localhost' };
  const load = (amount: number) => cannon({ ...where, connections: 64, amount, ...request });
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
  if (which !== 'issue' && which !== 'reads' && which !== 'remote_reads')
    throw new Error('usage: bench/cpu-cost.ts issue|reads|remote_reads [requests] [repeats]');
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
      const token = await readLease(daemon.client, project, environment);
      request = { method: 'GET', path: '/v1/secrets', headers: { authorization: `Bearer ${token}` } };
      work = { kind: 'append', bytes: READ_RECORD_BYTES };
    }
    const sample = await rawRequest(daemon.socket, request);
    if (sample.status >= 300) throw new Error(`${which}: ${sample.status} ${sample.body}`);
    let target: Target = { socket: daemon.socket };
    let listen: BaselineListen = { socket: path.join(place.root, 's', 'durable.sock') };
    if (which === 'remote_reads') {
      const port = await freePort();
      await daemon.client.call('enableListener', { address: `127.0.0.1:${port}` });
      target = { port };
      const files = listenerFiles(daemon.home);
      listen = { port: await freePort(), certFile: files.cert, keyFile: files.key };
    }
    const bella = await perRequest(daemon.pid, target, request, count, repeats);
    const answer = { status: sample.status, headers: answerHeaders(sample.headers), body: sample.body };
    const baseline = await startDurableBaseline(listen, path.join(place.root, 'durable.log'), work, answer);
    let base;
    try {
      base = await perRequest(
        baseline.pid,
        'socket' in listen ? listen : { port: listen.port },
        request,
        count,
        repeats,
      );
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
