import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonClient } from '../../daemon/client';
import { ensureBuilt, repoRoot } from '../helpers/build';
import { createTestCa, issueLeaf } from '../helpers/ca';
import { cliPath, waitFor } from '../helpers/cli';
import { daemonScript, readLog } from '../helpers/daemon';
import { fixtureArgs } from '../helpers/fixtures';
import { createNetnsPair, type Netns } from '../helpers/netns';

/**
 * The CI exchange across two hosts (issue 18): the daemon and its listener on A; on B, the CI
 * provider's side: an OIDC issuer of the test's own (discovery and JWKS over HTTPS with a test
 * CA) and the job, which runs the real CLI with BELLA_SERVER pointing at A. The JWTs are signed
 * here with jose; nothing leaves the two namespaces.
 */
const netns = createNetnsPair();
if (!netns.ok) console.warn(`CI two-host tests skipped: ${netns.reason}`);
const LISTENER_PORT = 7443;
const ISSUER_PORT = 8443;

describe.skipIf(!netns.ok)(`bella ci between two hosts${netns.ok ? '' : ` (skipped: ${netns.reason})`}`, () => {
  const { a, b } = netns.ok ? netns.pair : ({} as { a: Netns; b: Netns });
  const issuerUrl = () => `https://${b.address}:${ISSUER_PORT}`;
  const listenerUrl = () => `https://${a.address}:${LISTENER_PORT}`;
  let root: string;
  let home: string;
  let socket: string;
  let jobHome: string;
  let daemon: ChildProcess;
  let issuer: ChildProcess;
  let owner: DaemonClient;
  let fingerprint: string;
  let key: Awaited<ReturnType<typeof generateKeyPair>>;

  /** A JWT as the CI provider signs it for org/app on main, run 77. */
  const sign = async (claims: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: issuerUrl(),
      aud: listenerUrl(),
      repository: 'org/app',
      ref: 'refs/heads/main',
      run_id: '77',
      jti: randomUUID(),
      iat: now,
      nbf: now - 5,
      exp: now + 300,
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'JWT' })
      .sign(key.privateKey);
  };
  /** The job's environment on B: no bella of its own, the listener and its pin, the JWT. */
  const jobEnv = (jwt: string) => ({
    PATH: '/usr/bin:/bin',
    HOME: jobHome,
    BELLA_SERVER: listenerUrl(),
    BELLA_SERVER_FINGERPRINT: fingerprint,
    JOB_JWT: jwt,
  });
  const onB = (args: string[], jwt: string) =>
    b.run(process.execPath, [cliPath, ...args], { env: jobEnv(jwt), cwd: jobHome, timeoutMs: 60_000 });
  const lease = async (id: string) => (await owner.call('getLease', { id })).lease;

  beforeAll(async () => {
    ensureBuilt();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-ci-hosts-'));
    home = path.join(root, 'owner');
    socket = path.join(root, 's.sock');
    jobHome = path.join(root, 'job');
    fs.mkdirSync(jobHome, { mode: 0o700 });

    key = await generateKeyPair('ES256', { extractable: true });
    const ca = await createTestCa('bella CI two-host issuer CA');
    const leaf = await issueLeaf(ca, { ip: [b.address] });
    const files = {
      certFile: path.join(root, 'issuer-cert.pem'),
      keyFile: path.join(root, 'issuer-key.pem'),
      jwksFile: path.join(root, 'jwks.json'),
    };
    fs.writeFileSync(files.certFile, leaf.certPem);
    fs.writeFileSync(files.keyFile, leaf.keyPem, { mode: 0o600 });
    fs.writeFileSync(
      files.jwksFile,
      JSON.stringify({ keys: [{ ...(await exportJWK(key.publicKey)), kid: 'k1', alg: 'ES256' }] }),
    );
    const caFile = path.join(root, 'issuer-ca.pem');
    fs.writeFileSync(caFile, ca.certPem);
    issuer = b.spawn(process.execPath, fixtureArgs('oidc-issuer', { host: b.address, port: ISSUER_PORT, ...files }), {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let issuerOut = '';
    issuer.stdout!.setEncoding('utf8').on('data', (d: string) => (issuerOut += d));
    await waitFor(() => issuerOut.includes('"listening"'), `the OIDC issuer in ${b.name}`, 20_000);

    const log = path.join(root, 'daemon.log');
    daemon = a.spawn(process.execPath, [daemonScript, '--home', home, '--socket', socket], {
      stdio: ['ignore', fs.openSync(log, 'a'), fs.openSync(log, 'a')],
      env: { ...process.env, BELLA_HOME: home },
    });
    owner = new DaemonClient({ socketPath: socket, timeoutMs: 30_000 });
    await waitFor(() => owner.ping().catch(() => false), `the daemon in ${a.name}:\n${readLog(log)}`, 20_000);
    await owner.call('createProject', { slug: 'app', name: 'App' });
    await owner.call('createEnvironment', { project: 'app', slug: 'prod', name: 'prod' });
    await owner.call('importSecrets', {
      project: 'app',
      environment: 'prod',
      dotenv: 'API_KEY=k-1\nDB_URL=postgres://x\nSTRIPE_KEY=s-1\n',
    });
    await owner.call('enableListener', { address: `${a.address}:${LISTENER_PORT}` });
    fingerprint = (await owner.call('getListener', {})).listener.fingerprint!;
    const add = await a.run(
      process.execPath,
      [
        cliPath,
        ...['ci', 'trust', 'add', 'gh', '-p', 'app', '-e', 'prod', '--scope', 'API_KEY,DB_URL', '--ttl', '15m'],
        ...['--issuer', issuerUrl(), '--issuer-ca', caFile, '--claim', 'repository=org/app'],
        ...['--claim', 'ref=refs/heads/main'],
      ],
      { env: { ...process.env, BELLA_HOME: home, BELLA_SOCKET: socket }, cwd: root },
    );
    expect(add.code, add.stderr).toBe(0);
  }, 90_000);

  afterAll(async () => {
    owner?.close();
    for (const child of [daemon, issuer]) {
      if (child && child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    }
    if (netns.ok) netns.pair.cleanup();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('the job on B trades its JWT for a 15-minute token reading exactly the trust scope', async () => {
    const login = await onB(['ci', 'login', '--id-token-env', 'JOB_JWT'], await sign());
    expect(login.code, login.stderr).toBe(0);
    const token = login.stdout.trim();
    expect(token).toMatch(/^bax-[a-z0-9]{16}-[A-Za-z0-9_-]{43}$/);
    const pull = await b.run(process.execPath, [cliPath, 'pull', '-o', 'json'], {
      env: { ...jobEnv(''), BELLA_TOKEN: token },
      cwd: jobHome,
    });
    expect(pull.code, pull.stderr).toBe(0);
    expect(JSON.parse(pull.stdout)).toEqual({ API_KEY: 'k-1', DB_URL: 'postgres://x' });
    const issued = await lease(token.slice(4, 20));
    expect(Date.parse(issued.expiresAt) - Date.parse(issued.issuedAt)).toBe(15 * 60_000);
    expect(issued.reason).toBe('ci: org/app run 77 refs/heads/main');
    // The daemon on A fetched the keys from the issuer on B; a wrong branch is refused.
    const wrongRef = await onB(['ci', 'login', '--id-token-env', 'JOB_JWT'], await sign({ ref: 'refs/heads/dev' }));
    expect(wrongRef.code).toBe(1);
    expect(wrongRef.stdout).toBe('');
    expect(wrongRef.stderr).toContain('CI login refused');
  }, 60_000);

  it('bella run --ci on B revokes its lease when the command exits', async () => {
    const run = await onB(
      ['run', '--ci', '--id-token-env', 'JOB_JWT', '--', 'sh', '-c', 'echo "$API_KEY ${STRIPE_KEY-none}"'],
      await sign(),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('k-1 none\n');
    const id = /lease ([a-z0-9]{16})/.exec(run.stderr)?.[1];
    expect(id, run.stderr).toBeDefined();
    const ended = await lease(id!);
    expect(ended.status).toBe('revoked');
    expect(ended.endReason).toMatch(/^bella run --ci: exited 0 after/);
  }, 60_000);

  it('kill -9 of bella run --ci on B: the command is stopped and the lease still ends', async () => {
    const marker = path.join(jobHome, 'running');
    const child = b.spawn(
      process.execPath,
      [cliPath, 'run', '--ci', '--id-token-env', 'JOB_JWT', '--', 'sh', '-c', `touch ${marker}; sleep 60`],
      { env: jobEnv(await sign()), cwd: jobHome, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    await waitFor(() => fs.existsSync(marker), 'the command under bella run --ci to start', 30_000);
    const id = /lease ([a-z0-9]{16})/.exec(stderr)?.[1];
    expect(id, stderr).toBeDefined();
    expect((await lease(id!)).status).toBe('active');
    child.kill('SIGKILL');
    const ended = await waitFor(
      async () => {
        const l = await lease(id!);
        return l.status === 'revoked' ? l : undefined;
      },
      'the lease of the killed run to be revoked',
      30_000,
    );
    expect(ended?.endReason).toBe('bella run --ci: bella itself was killed');
  }, 60_000);
});
