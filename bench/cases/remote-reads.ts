import https from 'node:https';
import path from 'node:path';
import { listenerFiles } from '../../daemon/services/listener/service';
import { seed } from '../../test/helpers/daemon';
import { startDurableBaseline } from '../baselines';
import { answerHeaders, benchDaemon, cannonInChild, freePort, round, startBaselineHttpsServer } from '../lib';
import { READ_RECORD_BYTES, readLease } from './reads';

/** Figures of the remote_reads case, as written to latest.json. */
export interface RemoteReadsResult {
  bella_rps: number;
  baseline_rps: number;
  ratio: number;
  /** A bare HTTPS server that appends ~300 bytes per read and group-fdatasyncs before answering. */
  baseline_durable_rps: number;
  ratio_to_bare_durable: number;
  p99_ms: number;
}

/** One GET over TLS without pinning (what is measured is the server, not the client's checks). */
function get(port: number, path: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: import('node:http').IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port, path, headers, rejectUnauthorized: false, agent: false, timeout: 10_000 },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    },
  );
}

/**
 * Audited token reads of 3 keys over the TLS listener, 64 keep-alive connections driven from
 * another process, against a bare Node HTTPS server (its own process, the same certificate and
 * key) answering the same bytes and headers, and against the same doing the durable read
 * baseline's work (an append of ~300 bytes, group-fdatasynced before answering).
 */
export async function remoteReadsCase(
  durationS: number,
): Promise<
  RemoteReadsResult & { p50_ms: number; baseline_p99_ms: number; baseline_durable_p99_ms: number; connections: number }
> {
  const connections = 64;
  const { daemon, place } = await benchDaemon('remote_reads');
  try {
    const { project, environment } = await seed(daemon.client);
    const port = await freePort();
    await daemon.client.call('enableListener', { address: `127.0.0.1:${port}` });
    const headers = { authorization: `Bearer ${await readLease(daemon.client, project, environment)}` };
    const sample = await get(port, '/v1/secrets', headers);
    if (sample.status !== 200) throw new Error(`remote token read failed: ${sample.status} ${sample.body}`);
    const files = listenerFiles(daemon.home);
    const basePort = await freePort();
    const answer = { status: sample.status, headers: answerHeaders(sample.headers), body: sample.body };
    const baseline = await startBaselineHttpsServer(basePort, { certFile: files.cert, keyFile: files.key }, answer);
    // autocannon connects without verifying the certificate; `servername` only avoids SNI with an IP.
    const run = (p: number, duration: number) =>
      cannonInChild({
        url: `https://127.0.0.1:${p}/v1/secrets`,
        servername: 'localhost',
        connections,
        duration,
        headers,
      });
    let base;
    try {
      await run(basePort, 1);
      base = await run(basePort, durationS);
    } finally {
      await baseline.stop();
    }
    const durablePort = await freePort();
    const durable = await startDurableBaseline(
      { port: durablePort, certFile: files.cert, keyFile: files.key },
      path.join(place.root, 'durable-remote.log'),
      { kind: 'append', bytes: READ_RECORD_BYTES },
      answer,
    );
    let baseDurable;
    try {
      await run(durablePort, 1);
      baseDurable = await run(durablePort, durationS);
    } finally {
      await durable.stop();
    }
    await run(port, 1);
    const bella = await run(port, durationS);
    if (bella.non2xx || bella.errors) {
      throw new Error(`remote_reads: ${bella.non2xx} non-2xx answers and ${bella.errors} errors from the listener`);
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
      p99_ms: bella.latency.p99,
      p50_ms: bella.latency.p50,
      baseline_p99_ms: base.latency.p99,
      baseline_durable_p99_ms: baseDurable.latency.p99,
      connections,
    };
  } finally {
    await daemon.stop();
    place.cleanup();
  }
}
