import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { IssuerKeys } from '../daemon/services/ci/issuer-keys';
import { verifyJwt } from '../daemon/services/ci/verify-jwt';
import type { StoredCiTrust } from '../daemon/store';
import { createTestCa, issueLeaf } from '../test/helpers/ca';
import { pool } from './lib';

/**
 * CPU per CI JWT check (`verifyJwt`: decode, allow-list, candidates, jose's signature and claim
 * checks against the cached JWKS, the claim rules, the replay key), in-process, all threads of this
 * process (`process.cpuUsage`), 16 at once and one at a time. The issuer is an HTTPS server of its
 * own on loopback (test CA); its keys are fetched once, before the timing.
 * Usage: npx tsx bench/ci-verify-cost.ts [JWTS=4000] [ROUNDS=3]
 */
async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 4000);
  const rounds = Number(process.argv[3] ?? 3);
  const ca = await createTestCa('bella ci-verify-cost CA');
  const leaf = await issueLeaf(ca, { ip: ['127.0.0.1'] });
  const key = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(key.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  let issuer = '';
  const server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.url === '/jwks' ? { keys: [jwk] } : { issuer, jwks_uri: `${issuer}/jwks` }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const audience = 'https://127.0.0.1:9999';
  const trust: StoredCiTrust = {
    name: 'bench',
    project: 'p',
    environment: 'e',
    scope: ['API_KEY'],
    ttlSeconds: 900,
    issuer,
    audience,
    claims: [
      { claim: 'repository', pattern: 'org/*' },
      { claim: 'ref', pattern: 'refs/heads/main' },
    ],
    issuerCaPem: ca.certPem,
    createdAt: Date.now(),
  };
  const now = Math.floor(Date.now() / 1000);
  const jwts = await pool(
    Array.from({ length: count }, (_, i) => i),
    64,
    (i) =>
      new SignJWT({ repository: 'org/app', ref: 'refs/heads/main', run_id: String(i), jti: `j-${i}` })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(key.privateKey),
  );
  const keys = new IssuerKeys();
  const check = (jwt: string) => verifyJwt(jwt, [trust], keys, Date.now());
  await pool(jwts.slice(0, 200), 16, check); // the JWKS fetch and the JIT's warm-up
  for (let round = 0; round < rounds; round++) {
    for (const concurrency of [16, 1]) {
      const before = process.cpuUsage();
      await pool(jwts, concurrency, check);
      const used = process.cpuUsage(before);
      console.log(
        `round ${round + 1}, ${concurrency} at once: ${((used.user + used.system) / count).toFixed(1)} µs CPU per JWT`,
      );
    }
  }
  await new Promise<void>((r) => server.close(() => r()));
}

await main();
