import path from 'node:path';
import type { DaemonClient } from '../../daemon/client';
import { rawRequest, seed } from '../../test/helpers/daemon';
import { startDurableBaseline } from '../baselines';
import { answerHeaders, benchDaemon, cannon, round, startBaselineServer } from '../lib';
import { openLoop, type OpenLoopResult } from '../open-loop';

/** Figures of the reads case, as written to latest.json. */
export interface ReadsResult {
  bella_rps: number;
  /** A bare server answering the same bytes from memory (information: it keeps nothing). */
  baseline_rps: number;
  ratio: number;
  /** A bare server that appends ~300 bytes per read and group-fdatasyncs before answering. */
  baseline_durable_rps: number;
  ratio_to_bare_durable: number;
  p50_ms: number;
  p99_ms: number;
  /** p99 latency at a fixed offered rate of 2,000 reads/s (open loop). */
  p99_at_2k_ms: number;
  connections: number;
}

/** Bytes the durable read baseline appends per read: about one audit entry of a read. */
export const READ_RECORD_BYTES = 300;

/** The token of the lease every read case reads with: 3 keys of the seeded environment, for an hour. */
export async function readLease(client: DaemonClient, project: string, environment: string): Promise<string> {
  const issued = await client.call('issueLease', {
    project,
    environment,
    scope: ['API_KEY', 'DB_URL', 'STRIPE_KEY'],
    ttlSeconds: 3600,
    reason: 'bench reads',
  });
  return issued.token;
}
/** The fixed offered rate of the open-loop latency run. */
const FIXED_RATE = 2000;

/**
 * Audited token reads of 3 keys at 64 connections, against a bare server returning the same bytes
 * and a bare durable one; then bella and the durable baseline at a fixed 2,000 reads/s.
 */
export async function readsCase(durationS: number): Promise<
  ReadsResult & {
    baseline_p99_ms: number;
    baseline_durable_p99_ms: number;
    at_2k: OpenLoopResult;
    baseline_durable_at_2k: OpenLoopResult;
  }
> {
  const connections = 64;
  const { daemon, place } = await benchDaemon('reads');
  try {
    const { project, environment } = await seed(daemon.client);
    const headers = { authorization: `Bearer ${await readLease(daemon.client, project, environment)}` };
    const sample = await rawRequest(daemon.socket, { method: 'GET', path: '/v1/secrets', headers });
    if (sample.status !== 200) throw new Error(`token read failed: ${sample.status} ${sample.body}`);
    const run = (socketPath: string, duration = durationS) =>
      cannon({ url: 'http://localhost/v1/secrets', socketPath, connections, duration, headers });
    const fixedRate = (socket: string) =>
      openLoop({
        target: { socket },
        method: 'GET',
        path: '/v1/secrets',
        headers,
        rate: FIXED_RATE,
        durationS,
        warmupS: 1,
        maxConnections: 256,
        graceMs: 5000,
      });

    const baseSocket = path.join(place.root, 's', 'baseline.sock');
    const baseline = await startBaselineServer(baseSocket, sample.body, String(sample.headers['content-type']));
    let base;
    try {
      await run(baseSocket, 1);
      base = await run(baseSocket);
    } finally {
      await baseline.stop();
    }

    const durableSocket = path.join(place.root, 's', 'durable.sock');
    const durable = await startDurableBaseline(
      { socket: durableSocket },
      path.join(place.root, 'durable-reads.log'),
      { kind: 'append', bytes: READ_RECORD_BYTES },
      { status: sample.status, headers: answerHeaders(sample.headers), body: sample.body },
    );
    let baseDurable;
    let baseDurableAt2k;
    try {
      await run(durableSocket, 1);
      baseDurable = await run(durableSocket);
      baseDurableAt2k = await fixedRate(durableSocket);
    } finally {
      await durable.stop();
    }

    await run(daemon.socket, 1);
    const bella = await run(daemon.socket);
    if (bella.non2xx || bella.errors) {
      throw new Error(`reads: ${bella.non2xx} non-2xx answers and ${bella.errors} errors from the daemon`);
    }
    const at2k = await fixedRate(daemon.socket);
    if (at2k.failed || at2k.unanswered) {
      throw new Error(`reads at ${FIXED_RATE}/s: ${at2k.failed} failed and ${at2k.unanswered} unanswered reads`);
    }
    const bellaRps = bella['2xx'] / bella.duration;
    const baseRps = base['2xx'] / base.duration;
    const durableRps = baseDurable['2xx'] / baseDurable.duration;
    return {
      bella_rps: round(bellaRps, 0),
      baseline_rps: round(baseRps, 0),
      ratio: round(bellaRps / baseRps, 3),
      baseline_durable_rps: round(durableRps, 0),
      ratio_to_bare_durable: round(bellaRps / durableRps, 3),
      p50_ms: bella.latency.p50,
      p99_ms: bella.latency.p99,
      p99_at_2k_ms: at2k.p99_ms,
      connections,
      baseline_p99_ms: base.latency.p99,
      baseline_durable_p99_ms: baseDurable.latency.p99,
      at_2k: at2k,
      baseline_durable_at_2k: baseDurableAt2k,
    };
  } finally {
    await daemon.stop();
    place.cleanup();
  }
}
