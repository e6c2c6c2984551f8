import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataFiles } from '../../daemon/store/data-files';
import { createTestCa, issueLeaf } from '../helpers/ca';
import { cliPath, collect } from '../helpers/cli';
import { seed, type DaemonHandle, type DaemonPlace, freePort } from '../helpers/daemon';
import { daemonPool } from '../helpers/pool';

// A real OIDC issuer of the test's own: HTTPS on loopback with a test CA, serving discovery and a
// JWKS, JWTs signed with jose; a real daemon with its listener; the real CLI as a child process.
// Nothing leaves 127.0.0.1: no GitHub or GitLab host is ever contacted.

const pool = daemonPool('bella-ci');

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

interface Issuer {
  url: string;
  caFile: string;
  caPem: string;
  /** Keys served in the JWKS, by kid. */
  served: Map<string, JWK>;
  /** JWKS requests answered so far. */
  jwksFetches: number;
  /** What the GitHub Actions stand-in was asked for (audience) and with which bearer. */
  ghRequests: Array<{ audience: string | null; authorization: string | undefined }>;
  close(): Promise<void>;
}

let issuer: Issuer;
let key1: KeyPair;
let tmp: string;

async function startIssuer(dir: string): Promise<Issuer> {
  const ca = await createTestCa('bella ci test issuer CA');
  const leaf = await issueLeaf(ca, { ip: ['127.0.0.1'] });
  const caFile = path.join(dir, 'issuer-ca.pem');
  fs.writeFileSync(caFile, ca.certPem);
  const state: Omit<Issuer, 'url' | 'close'> = {
    caFile,
    caPem: ca.certPem,
    served: new Map(),
    jwksFetches: 0,
    ghRequests: [],
  };
  let url = '';
  const server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    const u = new URL(req.url ?? '/', url);
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (u.pathname === '/.well-known/openid-configuration') return json({ issuer: url, jwks_uri: `${url}/jwks` });
    if (u.pathname === '/jwks') {
      state.jwksFetches++;
      return json({ keys: [...state.served.values()] });
    }
    if (u.pathname === '/gh-token') {
      state.ghRequests.push({ audience: u.searchParams.get('audience'), authorization: req.headers.authorization });
      void sign({ aud: u.searchParams.get('audience') ?? '' }).then((value) => json({ value }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return Object.assign(state, {
    url,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }) as Issuer;
}

let audience = '';

/** A JWT as GitHub Actions would sign it for org/app on main, with `claims` changed. */
async function sign(
  claims: Record<string, unknown> = {},
  options: { key?: KeyPair; kid?: string; alg?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: issuer.url,
    aud: audience,
    sub: 'repo:org/app:ref:refs/heads/main',
    repository: 'org/app',
    ref: 'refs/heads/main',
    run_id: '1234',
    jti: randomUUID(),
    iat: now,
    nbf: now - 5,
    exp: now + 300,
    ...claims,
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: options.alg ?? 'ES256', kid: options.kid ?? 'k1', typ: 'JWT' })
    .sign((options.key ?? key1).privateKey);
}

function b64(json: unknown): string {
  return Buffer.from(JSON.stringify(json)).toString('base64url');
}

/** The CLI as the owner (the daemon's socket), or as a job on another machine with BELLA_SERVER set. */
function bella(place: DaemonPlace, args: string[], env: Record<string, string> = {}) {
  const jobHome = path.join(place.root, 'job');
  fs.mkdirSync(jobHome, { recursive: true, mode: 0o700 });
  const base = env.BELLA_SERVER
    ? { PATH: process.env.PATH ?? '', HOME: jobHome }
    : { ...process.env, BELLA_HOME: place.home, BELLA_SOCKET: place.socket };
  const child = spawn(process.execPath, [cliPath, ...args], {
    env: { ...base, ...env },
    cwd: place.root,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return collect(child, undefined, 30_000);
}

/** A daemon with a listener on loopback, secrets, and the trust `gh` for org/app on main. */
async function setUp() {
  const { place, daemon } = await pool.start({ env: { BELLA_CI_JWKS_REFETCH_MS: '1' } });
  const { project, environment } = await seed(daemon.client);
  const port = await freePort();
  await daemon.client.call('enableListener', { address: `127.0.0.1:${port}` });
  const { listener } = await daemon.client.call('getListener', {});
  audience = listener.urls[0]!;
  const job = { BELLA_SERVER: audience, BELLA_SERVER_FINGERPRINT: listener.fingerprint! };
  const add = await bella(place, [
    'ci',
    'trust',
    'add',
    'gh',
    '-p',
    project,
    '-e',
    environment,
    '--scope',
    'API_KEY,DB_URL',
    '--ttl',
    '10m',
    '--issuer',
    issuer.url,
    '--claim',
    'repository=org/app',
    '--claim',
    'ref=refs/heads/main',
    '--issuer-ca',
    issuer.caFile,
  ]);
  expect(add.code, add.stderr).toBe(0);
  return { place, daemon, job, project, environment };
}

/** `bella ci login` with the JWT in a variable; over the listener unless `local`. */
function login(place: DaemonPlace, job: Record<string, string>, jwt: string, local = false) {
  return bella(place, ['ci', 'login', '--id-token-env', 'JOB_JWT'], { ...(local ? {} : job), JOB_JWT: jwt });
}

/** Every CiLoginDenied reason in the trail (individual entries, and the aggregated ones' messages). */
async function deniedReasons(daemon: DaemonHandle): Promise<string> {
  const { entries } = await daemon.client.call('listAudit', { outcome: 'Denied', limit: 1000 });
  return entries.map((e) => `${e.event} ${e.message ?? ''}`).join('\n');
}

/** One POST /v1/ci/login straight to the listener (the probe does not pin: it tests the server). */
function post(base: string, body: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${base}/v1/ci/login`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, rejectUnauthorized: false, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join((await import('node:os')).tmpdir(), 'bella-ci-issuer-'));
  issuer = await startIssuer(tmp);
  key1 = await generateKeyPair('ES256', { extractable: true });
  issuer.served.set('k1', { ...(await exportJWK(key1.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' });
});

afterAll(async () => {
  await issuer.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('bella ci: a job trades its OIDC JWT for a short lease', () => {
  it('the right claims buy a token reading exactly the trust scope, ending at its ttl; a JWT buys once, even after a restart', async () => {
    const { place, daemon, job } = await setUp();
    const list = await bella(place, ['ci', 'trust', 'list', '--json']);
    const trusts = (JSON.parse(list.stdout) as { trusts: Array<Record<string, unknown>> }).trusts;
    expect(trusts).toEqual([
      expect.objectContaining({ name: 'gh', audience, ttlSeconds: 600, issuerCa: true, scope: ['API_KEY', 'DB_URL'] }),
    ]);

    const jwt = await sign();
    const res = await login(place, job, jwt);
    expect(res.code, res.stderr).toBe(0);
    const token = res.stdout.trim();
    expect(token).toMatch(/^bax-[a-z0-9]{16}-[A-Za-z0-9_-]{43}$/);
    expect(res.stderr).toMatch(/lease [a-z0-9]{16} for app\/prod \(trust gh\)/);

    const read = await bella(place, ['pull', '-o', 'json'], { ...job, BELLA_TOKEN: token });
    expect(read.code, read.stderr).toBe(0);
    expect(JSON.parse(read.stdout)).toEqual({ API_KEY: 'k-1', DB_URL: 'postgres://x' });
    const leaseId = token.slice(4, 20);
    const { lease } = await daemon.client.call('getLease', { id: leaseId });
    expect(Date.parse(lease.expiresAt) - Date.parse(lease.issuedAt)).toBe(600_000);
    expect(lease.reason).toBe('ci: org/app run 1234 refs/heads/main');
    const issued = (await daemon.client.call('listAudit', { event: 'LeaseIssued', lease: leaseId })).entries;
    expect(issued.map((e) => e.actor)).toEqual(['ci:gh']);

    const again = await login(place, job, jwt);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('CI login refused: this token was already used');

    await daemon.stop();
    const restarted = await pool.restart(daemon, { env: { BELLA_CI_JWKS_REFETCH_MS: '1' } });
    const afterRestart = await login(place, job, jwt, true);
    expect(afterRestart.code).toBe(1);
    expect(afterRestart.stderr).toContain('already used');
    expect(await deniedReasons(restarted)).toMatch(/CiLoginDenied ci login: replayed JWT/);
    // The JWT itself is never written anywhere in the data directory.
    const signature = jwt.split('.')[2]!;
    for (const file of fs.readdirSync(place.home, { recursive: true }) as string[]) {
      const full = path.join(place.home, file);
      if (fs.statSync(full).isFile()) expect(fs.readFileSync(full, 'latin1')).not.toContain(signature);
    }
  });

  it('refuses, and audits with its reason, every JWT that must not pass', async () => {
    const { place, daemon, job } = await setUp();
    const now = Math.floor(Date.now() / 1000);
    const k9 = await generateKeyPair('ES256', { extractable: true });
    const publicPem = Buffer.from(JSON.stringify(issuer.served.get('k1')));
    const hs256 = await new SignJWT({
      iss: issuer.url,
      aud: audience,
      repository: 'org/app',
      ref: 'refs/heads/main',
      iat: now,
      exp: now + 300,
    })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .sign(publicPem);
    const good = {
      iss: issuer.url,
      aud: audience,
      repository: 'org/app',
      ref: 'refs/heads/main',
      iat: now,
      exp: now + 300,
    };
    const cases: Array<[string, string, string]> = [
      [
        'wrong repository',
        await sign({ repository: 'org/other' }),
        "claim repository 'org/other' does not match 'org/app'",
      ],
      [
        'wrong ref',
        await sign({ ref: 'refs/heads/dev' }),
        "claim ref 'refs/heads/dev' does not match 'refs/heads/main'",
      ],
      [
        'wrong audience',
        await sign({ aud: 'https://elsewhere.example' }),
        'audience https://elsewhere.example matches no trust',
      ],
      [
        'wrong issuer',
        await sign({ iss: 'https://127.0.0.1:9/other' }),
        'no trust for issuer https://127.0.0.1:9/other',
      ],
      ['expired', await sign({ iat: now - 400, nbf: now - 400, exp: now - 120 }), 'ci login: expired'],
      ['not yet valid', await sign({ nbf: now + 300 }), 'ci login: not yet valid'],
      ['too old', await sign({ iat: now - 700, nbf: now - 700, exp: now + 300 }), 'ci login: too old'],
      ['issued in the future', await sign({ iat: now + 300 }), 'ci login: issued in the future'],
      ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(good)}.`, 'algorithm none not allowed'],
      ['HS256 with the public key', hs256, 'algorithm HS256 not allowed'],
      ['unknown kid', await sign({}, { key: k9, kid: 'k9' }), 'ci login: unknown kid'],
    ];
    // Over the socket: the listener's failed-token limiter (10 a burst) is shown elsewhere.
    const fetchesBefore = issuer.jwksFetches;
    for (const [what, jwt] of cases) {
      const res = await login(place, job, jwt, true);
      expect(res.code, what).toBe(1);
      expect(res.stdout, what).toBe('');
      expect(res.stderr, what).toMatch(/^error: CI login refused: /);
    }
    // The unknown kid made the daemon fetch the issuer's keys again, and they still lacked it.
    expect(issuer.jwksFetches).toBeGreaterThan(fetchesBefore);

    // A removed trust buys nothing, over the listener too.
    expect((await bella(place, ['ci', 'trust', 'remove', 'gh'])).code).toBe(0);
    const removed = await login(place, job, await sign());
    expect(removed.code).toBe(1);
    expect(removed.stderr).toContain('CI login refused: no CI trust names this issuer');

    await daemon.stop(); // writes out the aggregated refusals
    const restarted = await pool.restart(daemon);
    const trail = await deniedReasons(restarted);
    for (const [what, , reason] of cases) expect(trail, what).toContain(reason);
    expect(trail).toContain(`no trust for issuer ${issuer.url}`);
    const events = (await restarted.client.call('listAudit', { limit: 1000 })).entries.map((e) => e.event);
    expect(events).toContain('CiTrustAdded');
    expect(events).toContain('CiTrustRemoved');
    expect(events).not.toContain('LeaseIssued');
  });
  it('bella run --ci revokes its lease at exit; on GitHub Actions the job fetches its own JWT for the trust audience', async () => {
    const { place, daemon, job } = await setUp();
    const script =
      'console.log(process.env.API_KEY + " " + process.env.DB_URL + " " + (process.env.STRIPE_KEY ?? "none"))';
    const run = await bella(place, ['run', '--ci', '--id-token-env', 'JOB_JWT', '--', process.execPath, '-e', script], {
      ...job,
      JOB_JWT: await sign(),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('k-1 postgres://x none');
    const leaseId = /lease ([a-z0-9]{16})/.exec(run.stderr)?.[1];
    expect(leaseId, run.stderr).toBeDefined();
    const { lease } = await daemon.client.call('getLease', { id: leaseId! });
    expect(lease.status).toBe('revoked');
    expect(lease.endReason).toMatch(/^bella run --ci: /);

    // --trust names the one trust to use: the JWT must match that one.
    const named = await bella(place, ['ci', 'login', '--trust', 'gh', '--id-token-env', 'JOB_JWT'], {
      ...job,
      JOB_JWT: await sign(),
    });
    expect(named.code, named.stderr).toBe(0);
    const other = await bella(place, ['ci', 'login', '--trust', 'other', '--id-token-env', 'JOB_JWT'], {
      ...job,
      JOB_JWT: await sign(),
    });
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('CI login refused');

    // The GitHub Actions runner's token endpoint, stood in for on loopback.
    const before = issuer.ghRequests.length;
    const gh = await bella(place, ['ci', 'login'], {
      ...job,
      ACTIONS_ID_TOKEN_REQUEST_URL: `${issuer.url}/gh-token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-request-token',
      NODE_EXTRA_CA_CERTS: issuer.caFile,
    });
    expect(gh.code, gh.stderr).toBe(0);
    expect(gh.stdout.trim()).toMatch(/^bax-[a-z0-9]{16}-[A-Za-z0-9_-]{43}$/);
    expect(issuer.ghRequests.slice(before)).toEqual([{ audience, authorization: 'bearer runner-request-token' }]);

    // With a list of servers, the audience is the first one's.
    const listed = await bella(place, ['ci', 'login'], {
      ...job,
      BELLA_SERVER: `${audience},https://127.0.0.1:9`,
      BELLA_SERVER_FINGERPRINT: `${job.BELLA_SERVER_FINGERPRINT},${job.BELLA_SERVER_FINGERPRINT}`,
      ACTIONS_ID_TOKEN_REQUEST_URL: `${issuer.url}/gh-token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-request-token',
      NODE_EXTRA_CA_CERTS: issuer.caFile,
    });
    expect(listed.code, listed.stderr).toBe(0);
    expect(issuer.ghRequests.slice(before + 1)).toEqual([{ audience, authorization: 'bearer runner-request-token' }]);
  });

  it('the --github and --gitlab presets set issuer and claims, sending nothing; bad input names its flag', async () => {
    const { place } = await setUp();
    const common = ['-p', 'app', '-e', 'prod', '--scope', 'API_KEY', '--audience', 'https://bella.example:7443'];
    expect(
      (await bella(place, ['ci', 'trust', 'add', 'a-gh', '--github', 'org/app@refs/heads/main', ...common])).code,
    ).toBe(0);
    expect((await bella(place, ['ci', 'trust', 'add', 'b-gl', '--gitlab', 'group/sub/project', ...common])).code).toBe(
      0,
    );
    const { trusts } = JSON.parse((await bella(place, ['ci', 'trust', 'list', '--json'])).stdout) as {
      trusts: Array<{ name: string; issuer: string; claims: unknown; ttlSeconds: number }>;
    };
    expect(trusts.map((t) => [t.name, t.issuer, t.claims, t.ttlSeconds])).toEqual([
      [
        'a-gh',
        'https://token.actions.githubusercontent.com',
        [
          { claim: 'repository', pattern: 'org/app' },
          { claim: 'ref', pattern: 'refs/heads/main' },
        ],
        900,
      ],
      [
        'b-gl',
        'https://gitlab.com',
        [
          { claim: 'project_path', pattern: 'group/sub/project' },
          { claim: 'ref', pattern: '*' },
        ],
        900,
      ],
      ['gh', issuer.url, expect.any(Array), 600],
    ]);
    const http = await bella(place, [
      'ci',
      'trust',
      'add',
      'c',
      '--issuer',
      'http://127.0.0.1:1',
      '--claim',
      'sub=x',
      ...common,
    ]);
    expect(http.code).toBe(1);
    expect(http.stderr).toContain('the issuer must be an https:// URL');
    const noClaim = await bella(place, ['ci', 'trust', 'add', 'c', '--issuer', 'https://127.0.0.1:1', ...common]);
    expect(noClaim.code).toBe(2);
    expect(noClaim.stderr).toContain('--claim KEY=GLOB');
    const preset = await bella(place, ['ci', 'trust', 'add', 'c', '--github', 'org', ...common]);
    expect(preset.stderr).toContain('--github takes OWNER/REPO[@REF]');
  });
  it('a flood of bad JWTs on the listener is throttled (429) and audited in aggregate; a good JWT still passes', async () => {
    const { place, daemon, job } = await setUp();
    const bad = await sign({ repository: 'org/other' });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await post(audience, { idToken: bad })).status);
    // Refused (401) until the address's allowance of failures is used up, then throttled (429).
    expect(statuses[0]).toBe(401);
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    const good = await login(place, job, await sign());
    expect(good.code, good.stderr).toBe(0);
    await daemon.stop(); // writes out the aggregated window
    const restarted = await pool.restart(daemon);
    const { entries } = await restarted.client.call('listAudit', { outcome: 'Denied', limit: 1000 });
    const fromListener = entries.filter((e) => e.source === '127.0.0.1');
    // Every refusal is counted, yet the trail grew by a handful of entries, not twenty.
    expect(fromListener.reduce((n, e) => n + (e.count ?? 1), 0)).toBe(20);
    expect(fromListener.length).toBeLessThanOrEqual(12);
    expect(fromListener.map((e) => e.message).join('\n')).toContain("claim repository 'org/other' does not match");
  });

  it('each login journals its own replay key: the 40th login writes no more than the 2nd', async () => {
    const { place } = await setUp();
    const journal = dataFiles(place.home).journal;
    const growth: number[] = [];
    for (let i = 0; i < 40; i++) {
      const before = fs.statSync(journal).size;
      const res = await post(audience, { idToken: await sign() });
      expect(res.status, res.body).toBe(200);
      growth.push(fs.statSync(journal).size - before);
    }
    // A commit is proportional to what it changed: a lease, its audit entry and one replay key.
    // Remembering every key in one settings entry made each login write all the earlier ones.
    expect(growth[1]).toBeGreaterThan(0);
    expect(Math.abs(growth[39]! - growth[1]!)).toBeLessThan(64);
  });
});
