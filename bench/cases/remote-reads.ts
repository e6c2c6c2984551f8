import https from 'node:https';
import { listenerFiles } from '../../daemon/services/listener/service';
import { seed } from '../../test/helpers/daemon';
import { answerHeaders, benchDaemon, cannonInChild, freePort, round, startBaselineHttpsServer } from '../lib';

/** Figures of the remote_reads case, as written to latest.json. */
export interface RemoteReadsResult {
  bella_rps: number;
  baseline_rps: number;
  ratio: number;
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
 * key) answering the same bytes and headers.
 */
export async function remoteReadsCase(
  durationS: number,
): Promise<RemoteReadsResult & { p50_ms: number; baseline_p99_ms: number; connections: number }> {
  const connections = 64;
  const { daemon, place } = await benchDaemon('remote_reads');
  try {
    const { project, environment } = await seed(daemon.client);
    const port = await freePort();
    await daemon.client.call('enableListener', { address: `127.0.0.1:${port}` });
    const issued = await daemon.client.call('issueLease', {
      project,
      environment,
      scope: ['API_KEY', 'DB_URL', 'STRIPE_KEY'],
      ttlSeconds: 3600,
      reason: 'bench remote reads',
    });
    const headers = { authorization: `Bearer ${issued.token}` };
    const sample = await get(port, '/v1/secrets', headers);
    if (sample.status !== 200) throw new Error(`remote token read failed: ${sample.status} ${sample.body}`);
    const files = listenerFiles(daemon.home);
    const basePort = await freePort();
    const baseline = await startBaselineHttpsServer(
      basePort,
      { certFile: files.cert, keyFile: files.key },
      { status: sample.status, headers: answerHeaders(sample.headers), body: sample.body },
    );
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
    await run(port, 1);
    const bella = await run(port, durationS);
    if (bella.non2xx || bella.errors) {
      throw new Error(`remote_reads: ${bella.non2xx} non-2xx answers and ${bella.errors} errors from the listener`);
    }
    const bellaRps = bella['2xx'] / bella.duration;
    const baseRps = base['2xx'] / base.duration;
    return {
      bella_rps: round(bellaRps, 0),
      baseline_rps: round(baseRps, 0),
      ratio: round(bellaRps / baseRps, 3),
      p99_ms: bella.latency.p99,
      p50_ms: bella.latency.p50,
      baseline_p99_ms: base.latency.p99,
      connections,
    };
  } finally {
    await daemon.stop();
    place.cleanup();
  }
}
