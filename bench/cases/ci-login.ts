import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createTestCa, issueLeaf } from '../../test/helpers/ca';
import { seed } from '../../test/helpers/daemon';
import { benchDaemon, cpuUs, freePort, percentile, pool, round } from '../lib';

/** Figures of the ci_login case, as written to latest.json. */
export interface CiLoginResult {
  logins_per_s: number;
  p99_ms: number;
}

/**
 * The jobs' TLS settings, made once: a job is one process making one secure context, so making a
 * context per login would charge the jobs' shared cores with 16 processes' start-up, not logins.
 * It holds no sessions (Node's contexts keep none unless given one), so every login is a full handshake.
 */
const JOB_CONTEXT = tls.createSecureContext({});

/**
 * One POST over a new TLS connection with a full handshake, as a job makes it (no pinning: the
 * server is measured), as one HTTP/1.1 request with `connection: close` written on the socket
 * (the jobs share the daemon's 2 cores: Node's HTTP client machinery would be measured as the
 * daemon's). A resumed session would not be a job's, so it fails the run.
 */
function login(
  base: URL,
  path: string,
  idToken: string,
): Promise<{ status: number; body: string; handshakeMs: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ idToken });
    const socket = tls.connect({
      host: base.hostname,
      port: Number(base.port),
      secureContext: JOB_CONTEXT,
      rejectUnauthorized: false,
    });
    const chunks: Buffer[] = [];
    socket.setTimeout(30_000, () => socket.destroy(new Error('timeout')));
    let handshakeMs = 0;
    socket.once('secureConnect', () => {
      handshakeMs = performance.now() - started;
      if (socket.isSessionReused()) socket.destroy(new Error('ci_login: a TLS session was resumed'));
      // Not end(): a job does not half-close, and the server would take that for a dropped request.
      else
        socket.write(
          `POST ${path} HTTP/1.1\r\nhost: ${base.host}\r\ncontent-type: application/json\r\n` +
            `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
        );
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const answer = Buffer.concat(chunks).toString('utf8');
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(answer);
      if (!status) reject(new Error(`ci_login: not an HTTP answer: ${answer.slice(0, 200)}`));
      else resolve({ status: Number(status[1]), body: answer.slice(answer.indexOf('\r\n\r\n') + 4), handshakeMs });
    });
  });
}

/**
 * CI logins over the TLS listener, 16 jobs at once: each a JWT of an OIDC issuer of the bench's
 * own (HTTPS on loopback, a test CA, discovery and JWKS), verified with jose, then a lease issued
 * and its replay key written in the same commit. The JWTs are signed beforehand (the job's cost).
 */
export async function ciLoginCase(logins: number): Promise<
  CiLoginResult & {
    p50_ms: number;
    handshake_p50_ms: number;
    handshake_p99_ms: number;
    logins: number;
    concurrency: number;
    daemon_cpu_us_per_login: number;
    jobs_cpu_us_per_login: number;
  }
> {
  const concurrency = 16;
  const ca = await createTestCa('bella bench issuer CA');
  const leaf = await issueLeaf(ca, { ip: ['127.0.0.1'] });
  const key = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(key.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  let issuerUrl = '';
  const issuer = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    res.writeHead(req.url === '/jwks' || req.url === '/.well-known/openid-configuration' ? 200 : 404, {
      'content-type': 'application/json',
    });
    if (req.url === '/jwks') res.end(JSON.stringify({ keys: [jwk] }));
    else res.end(JSON.stringify({ issuer: issuerUrl, jwks_uri: `${issuerUrl}/jwks` }));
  });
  await new Promise<void>((r) => issuer.listen(0, '127.0.0.1', r));
  issuerUrl = `https://127.0.0.1:${(issuer.address() as AddressInfo).port}`;
  const { daemon, place } = await benchDaemon('ci_login');
  try {
    const { project, environment } = await seed(daemon.client);
    await daemon.client.call('enableListener', { address: `127.0.0.1:${await freePort()}` });
    const audience = (await daemon.client.call('getListener', {})).listener.urls[0]!;
    await daemon.client.call('addCiTrust', {
      name: 'bench',
      project,
      environment,
      scope: ['API_KEY'],
      issuer: issuerUrl,
      claims: [
        { claim: 'repository', pattern: 'org/*' },
        { claim: 'ref', pattern: 'refs/heads/main' },
      ],
      issuerCaPem: ca.certPem,
    });
    const now = Math.floor(Date.now() / 1000);
    const sign = (i: number) =>
      new SignJWT({ repository: 'org/app', ref: 'refs/heads/main', run_id: String(i), jti: `bench-${i}` })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(issuerUrl)
        .setAudience(audience)
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(key.privateKey);
    // A warmed daemon, as the reads and issue cases measure one: 500 logins (about a second of them)
    // before the timing; CI_LOGIN_WARMUP=N sets another count (at least one per job).
    const warmup = Math.max(concurrency, Number(process.env.CI_LOGIN_WARMUP ?? 500) || 0);
    const jwts = await pool(
      Array.from({ length: logins + warmup }, (_, i) => i),
      64,
      sign,
    );
    const floor = process.env.CI_LOGIN_FLOOR === '1';
    const handshakes: number[] = [];
    const once = async (jwt: string) => {
      const started = performance.now();
      const res = await login(new URL(audience), floor ? '/v1/none' : '/v1/ci/login', jwt);
      if (res.status !== (floor ? 404 : 200))
        throw new Error(`ci_login: a login was answered ${res.status}: ${res.body}`);
      handshakes.push(res.handshakeMs);
      return performance.now() - started;
    };
    // Warm-up: the first login fetches the issuer's keys.
    await pool(jwts.slice(0, warmup), concurrency, once);
    const started = performance.now();
    const daemonCpu = cpuUs(daemon.pid);
    const jobsCpu = process.cpuUsage();
    handshakes.length = 0;
    const latencies = await pool(jwts.slice(warmup), concurrency, once);
    const seconds = (performance.now() - started) / 1000;
    const jobs = process.cpuUsage(jobsCpu);
    const daemonUs = cpuUs(daemon.pid) - daemonCpu;
    return {
      logins_per_s: round(logins / seconds, 0),
      p99_ms: round(percentile(latencies, 99), 1),
      p50_ms: round(percentile(latencies, 50), 1),
      // Of a login's time, the TLS handshake's (from connect to secureConnect: CPU queueing).
      handshake_p50_ms: round(percentile(handshakes, 50), 1),
      handshake_p99_ms: round(percentile(handshakes, 99), 1),
      logins,
      concurrency,
      // CPU time of each side per login: the daemon, and the 16 jobs (this process, issuer idle).
      daemon_cpu_us_per_login: round(daemonUs / logins, 0),
      jobs_cpu_us_per_login: round((jobs.user + jobs.system) / logins, 0),
    };
  } finally {
    await daemon.stop();
    place.cleanup();
    await new Promise<void>((r) => issuer.close(() => r()));
  }
}
