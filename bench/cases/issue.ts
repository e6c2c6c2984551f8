import fs from 'node:fs';
import path from 'node:path';
import { dataFiles } from '../../daemon/store';
import { rawRequest, seed } from '../../test/helpers/daemon';
import { startDurableBaseline, type DurableWork } from '../baselines';
import { answerHeaders, benchDaemon, cannon, round } from '../lib';

/** Figures of the issue case, as written to latest.json. */
export interface IssueResult {
  leases_per_s: number;
  p99_ms: number;
  active_leases: number;
  concurrency: number;
  /**
   * Leases/s over the req/s of a bare server that serialises and HMAC-chains a ~1 KB record per
   * request and group-fdatasyncs it before answering.
   */
  ratio_to_bare_durable: number;
  baseline_rps: number;
  /** Information: the same over a bare server that only appends as many bytes as bella wrote per lease. */
  ratio_to_bare_append: number;
  baseline_append_rps: number;
}

/** The record the durable issue baseline serialises and chains per request. */
export const ISSUE_RECORD_BYTES = 1024;

/**
 * Bytes the daemon appends to its journal and audit trail, summed while it runs: sampled often,
 * so a journal folded into a snapshot (it starts again from a header) loses only what was written
 * since the last sample.
 */
function growthMeter(home: string, everyMs = 50) {
  const files = dataFiles(home);
  const read = () => {
    let audit = 0;
    for (const name of fs.readdirSync(files.audit)) audit += fs.statSync(path.join(files.audit, name)).size;
    return { journal: fs.statSync(files.journal).size, audit };
  };
  let last = read();
  let bytes = 0;
  let compactions = 0;
  const sample = () => {
    const now = read();
    if (now.journal >= last.journal) bytes += now.journal - last.journal;
    else {
      compactions++;
      bytes += now.journal;
    }
    bytes += Math.max(0, now.audit - last.audit);
    last = now;
  };
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { bytes, compactions };
    },
  };
}

/** The body of every issue the bench sends (the issue case, its CPU and instruction counts). */
export function issueBody(project: string, environment: string): string {
  return JSON.stringify({ project, environment, scope: ['API_KEY'], ttlSeconds: 86_400, reason: 'bench issue' });
}

/**
 * Durable lease issues at 64 concurrent clients over 10,000 active leases, then the same load on a
 * bare server that serialises, HMAC-chains, appends and fdatasyncs (group commit) a ~1 KB record per
 * request, and on one that only appends the bytes the daemon wrote per lease.
 */
export async function issueCase(
  durationS: number,
  preload = 10_000,
): Promise<IssueResult & { bytes_per_lease: number; journal_compactions: number; baseline_p99_ms: number }> {
  const concurrency = 64;
  const { daemon, place } = await benchDaemon('issue');
  let stopped = false;
  try {
    const { project, environment } = await seed(daemon.client);
    const body = issueBody(project, environment);
    const headers = { 'content-type': 'application/json' };
    const sample = await rawRequest(daemon.socket, { method: 'POST', path: '/v1/leases', headers, body });
    if (sample.status !== 200 && sample.status !== 201) throw new Error(`issue: ${sample.status} ${sample.body}`);
    const request = {
      url: 'http://localhost/v1/leases',
      method: 'POST' as const,
      headers,
      body,
      connections: concurrency,
    };
    const warm = await cannon({ ...request, socketPath: daemon.socket, amount: preload });
    if (warm.non2xx || warm.errors) throw new Error(`issue preload: ${warm.non2xx} non-2xx, ${warm.errors} errors`);
    const active = (await daemon.client.call('status', {})).counts.activeLeases;
    const meter = growthMeter(daemon.home);
    const run = await cannon({ ...request, socketPath: daemon.socket, duration: durationS });
    const grown = meter.stop();
    if (run.non2xx || run.errors) throw new Error(`issue: ${run.non2xx} non-2xx, ${run.errors} errors`);
    const bytesPerLease = Math.round(grown.bytes / run['2xx']);
    await daemon.stop();
    stopped = true;

    const answer = { status: sample.status, headers: answerHeaders(sample.headers), body: sample.body };
    const baseSocket = path.join(place.root, 's', 'durable.sock');
    const measure = async (work: DurableWork) => {
      const baseline = await startDurableBaseline(
        { socket: baseSocket },
        path.join(place.root, 'durable.log'),
        work,
        answer,
      );
      try {
        await cannon({ ...request, socketPath: baseSocket, duration: 1 });
        return await cannon({ ...request, socketPath: baseSocket, duration: durationS });
      } finally {
        await baseline.stop();
      }
    };
    const chain = await measure({ kind: 'chain', bytes: ISSUE_RECORD_BYTES });
    const append = await measure({ kind: 'append', bytes: bytesPerLease });
    const leasesPerS = run['2xx'] / run.duration;
    const baseRps = chain['2xx'] / chain.duration;
    const appendRps = append['2xx'] / append.duration;
    return {
      leases_per_s: round(leasesPerS, 0),
      p99_ms: run.latency.p99,
      active_leases: active,
      concurrency,
      ratio_to_bare_durable: round(leasesPerS / baseRps, 3),
      baseline_rps: round(baseRps, 0),
      ratio_to_bare_append: round(leasesPerS / appendRps, 3),
      baseline_append_rps: round(appendRps, 0),
      bytes_per_lease: bytesPerLease,
      journal_compactions: grown.compactions,
      baseline_p99_ms: chain.latency.p99,
    };
  } finally {
    if (!stopped) await daemon.stop();
    place.cleanup();
  }
}
