import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, issueLeaf } from '../helpers/ca';
import { addDatabase, roleGone, setUpDatabase, tearDown, type DbFixture } from './fixture';

// A CI trust with --db: each job's lease gets a login role of its own, dropped when the job ends.
// The OIDC issuer is the test's own (HTTPS on loopback, a test CA); the job logs in on the socket.

let f: DbFixture;
let issuer: https.Server;
let issuerUrl = '';
let sign: (claims: Record<string, unknown>) => Promise<string>;

beforeAll(async () => {
  f = await setUpDatabase();
  await addDatabase(f);
  const ca = await createTestCa('bella db ci issuer CA');
  const leaf = await issueLeaf(ca, { ip: ['127.0.0.1'] });
  const key = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(key.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  issuer = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(req.url === '/jwks' ? { keys: [jwk] } : { issuer: issuerUrl, jwks_uri: `${issuerUrl}/jwks` }),
    );
  });
  await new Promise<void>((r) => issuer.listen(0, '127.0.0.1', r));
  issuerUrl = `https://127.0.0.1:${(issuer.address() as AddressInfo).port}`;
  const caFile = path.join(f.bella.workDir, 'issuer-ca.pem');
  fs.writeFileSync(caFile, ca.certPem);
  sign = (claims) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ repository: 'org/app', ref: 'refs/heads/main', run_id: '7', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(issuerUrl)
      .setAudience('bella-db-test')
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(key.privateKey);
  };
  await f.bella.ok([
    'ci',
    'trust',
    'add',
    'deploy',
    '-p',
    'my-api',
    '-e',
    'prod',
    '--scope',
    'API_KEY',
    '--ttl',
    '10m',
    '--issuer',
    issuerUrl,
    '--audience',
    'bella-db-test',
    '--claim',
    'repository=org/app',
    '--issuer-ca',
    caFile,
    '--db',
    'pg-prod:readonly',
  ]);
}, 60_000);

afterAll(async () => {
  await new Promise<void>((r) => (issuer ? issuer.close(() => r()) : r()));
  await tearDown(f);
}, 60_000);

describe('CI trusts with --db', () => {
  it('refuses a trust naming an unknown role, and lists the one it keeps', async () => {
    const bad = await f.bella.run([
      'ci',
      'trust',
      'add',
      'other',
      '-p',
      'my-api',
      '-e',
      'prod',
      '--scope',
      'API_KEY',
      '--issuer',
      issuerUrl,
      '--audience',
      'x',
      '--claim',
      'repository=org/app',
      '--db',
      'pg-prod:nope',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('pg-prod has no role nope');
    const listed = await f.bella.json<{ trusts: Array<{ name: string; db?: string }> }>(['ci', 'trust', 'list']);
    expect(listed.trusts).toEqual([expect.objectContaining({ name: 'deploy', db: 'pg-prod:readonly' })]);
    const busy = await f.bella.run(['databases', 'roles', 'remove', 'pg-prod', 'readonly']);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain('CI trust deploy uses pg-prod:readonly');
  });

  it("a job's run gets PG_PROD_URL of its own role, dropped when the job's command exits", async () => {
    const jwt = await sign({});
    const out = await f.bella.ok(
      [
        'run',
        '--ci',
        '--id-token-env',
        'JOB_JWT',
        '--',
        'sh',
        '-c',
        'psql -X -At "$PG_PROD_URL" -c "SELECT current_user, count(*) FROM orders GROUP BY 1"; printf "%s" "$API_KEY"',
      ],
      { env: { JOB_JWT: jwt } },
    );
    const [row, apiKey] = out.trim().split('\n');
    const user = row!.split('|')[0]!;
    expect(row).toMatch(/^bella_[a-z0-9]{16}\|2$/);
    expect(apiKey).toBe('k-123');
    await roleGone(f, user);
  });
});
