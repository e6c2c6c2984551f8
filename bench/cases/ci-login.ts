import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createTestCa, issueLeaf } from '../../test/helpers/ca';
import { seed } from '../../test/helpers/daemon';
import { benchDaemon, freePort, percentile, pool, round } from '../lib';

/** Figures of the ci_login case, as written to latest.json. */
export interface CiLoginResult {
  logins_per_s: number;
  p99_ms: number;
}

/** One POST /v1/ci/login over a new TLS connection, as a job makes it (no pinning: the server is measured). */
function login(base: string, idToken: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${base}/v1/ci/login`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        rejectUnauthorized: false,
        agent: false,
        timeout: 30_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(JSON.stringify({ idToken }));
  });
}

/**
 * CI logins over the TLS listener, 16 jobs at once: each a JWT of an OIDC issuer of the bench's
 * own (HTTPS on loopback, a test CA, discovery and JWKS), verified with jose, then a lease issued
 * and its replay key written in the same commit. The JWTs are signed beforehand (the job's cost).
 */
export async function ciLoginCase(
  logins: number,
): Promise<CiLoginResult & { p50_ms: number; logins: number; concurrency: number }> {
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
    const jwts = await pool(
      Array.from({ length: logins + concurrency }, (_, i) => i),
      64,
      sign,
    );
    const once = async (jwt: string) => {
      const started = performance.now();
      const res = await login(audience, jwt);
      if (res.status !== 200) throw new Error(`ci_login: a login was answered ${res.status}: ${res.body}`);
      return performance.now() - started;
    };
    // Warm-up: the first login fetches the issuer's keys.
    await pool(jwts.slice(0, concurrency), concurrency, once);
    const started = performance.now();
    const latencies = await pool(jwts.slice(concurrency), concurrency, once);
    const seconds = (performance.now() - started) / 1000;
    return {
      logins_per_s: round(logins / seconds, 0),
      p99_ms: round(percentile(latencies, 99), 1),
      p50_ms: round(percentile(latencies, 50), 1),
      logins,
      concurrency,
    };
  } finally {
    await daemon.stop();
    place.cleanup();
    await new Promise<void>((r) => issuer.close(() => r()));
  }
}
