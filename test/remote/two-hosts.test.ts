import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operations, pathParams, type OperationName } from '../../daemon/api';
import { DaemonClient } from '../../daemon/client';
import { generateSelfSigned } from '../../daemon/services/listener/certificate';
import { cliPath, waitFor, type CliResult } from '../helpers/cli';
import { daemonScript, readLog, repoRoot } from '../helpers/daemon';
import { fixtureArgs } from '../helpers/fixtures';
import { createNetnsPair, type Netns } from '../helpers/netns';
import { auditBytes } from '../reliability/files';

/**
 * Two hosts: network namespaces A (the owner's box: the daemon and its listener) and B (the
 * contractor's or CI runner's machine: the real CLI, its own HOME, no bella data, no socket).
 */
const netns = createNetnsPair();
if (!netns.ok) console.warn(`two-host tests skipped: ${netns.reason}`);
const PORT = 7443;

describe.skipIf(!netns.ok)(`a lease used from another machine${netns.ok ? '' : ` (skipped: ${netns.reason})`}`, () => {
  const { a, b } = netns.ok ? netns.pair : ({} as { a: Netns; b: Netns });
  let root: string;
  let home: string;
  let socket: string;
  let holderHome: string;
  let daemon: ChildProcess;
  let owner: DaemonClient;
  let fingerprint: string;
  const server = () => `https://${a.address}:${PORT}`;

  /** The holder's environment: its own HOME, nothing of the owner's. */
  const holderEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: holderHome, ...extra };
    return env;
  };
  /** The real CLI on host B. */
  const holder = (args: string[], extra: Record<string, string> = {}): Promise<CliResult> =>
    b.run(process.execPath, [cliPath, ...args], { env: holderEnv(extra), cwd: holderHome });
  /** A raw probe from host B (fixture script): one request, or a plain TCP exchange. */
  const probeFromB = async (request: object) => {
    const res = await b.run(process.execPath, fixtureArgs('https-probe', request), { env: holderEnv(), cwd: repoRoot });
    if (res.code !== 0) throw new Error(res.stderr);
    return JSON.parse(res.stdout.trim().split('\n').at(-1)!) as {
      status?: number;
      body?: string;
      error?: string;
      data?: string;
      results?: Array<{ status?: number; error?: string }>;
    };
  };

  const startDaemon = async () => {
    const log = path.join(root, 'daemon.log');
    daemon = a.spawn(process.execPath, [daemonScript, '--home', home, '--socket', socket], {
      stdio: ['ignore', fs.openSync(log, 'a'), fs.openSync(log, 'a')],
      env: { ...process.env, BELLA_HOME: home },
    });
    owner = new DaemonClient({ socketPath: socket, timeoutMs: 30_000 });
    await waitFor(() => owner.ping().catch(() => false), `the daemon in ${a.name}:\n${readLog(log)}`, 20_000);
  };
  const stopDaemon = async () => {
    owner.close();
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
  };
  const issue = async (scope: string[], ttlSeconds = 3600) =>
    owner.call('issueLease', { project: 'app', environment: 'prod', scope, reason: 'contractor', ttlSeconds });

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-2hosts-'));
    home = path.join(root, 'owner');
    socket = path.join(root, 's.sock');
    holderHome = path.join(root, 'holder');
    fs.mkdirSync(holderHome, { mode: 0o700 });
    await startDaemon();
    await owner.call('createProject', { slug: 'app', name: 'App' });
    await owner.call('createEnvironment', { project: 'app', slug: 'prod', name: 'prod' });
    await owner.call('importSecrets', {
      project: 'app',
      environment: 'prod',
      dotenv: 'DATABASE_URL=postgres://db\nREDIS_URL=redis://r\nSTRIPE_KEY=sk_live_x\n',
    });
  }, 60_000);

  afterAll(async () => {
    await stopDaemon().catch(() => undefined);
    if (netns.ok) netns.pair.cleanup();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('listens for B only once enabled, and serves no admin route there', async () => {
    expect((await probeFromB({ tcp: `${a.address}:${PORT}` })).error).toMatch(/ECONNREFUSED/);
    const { listener } = await owner.call('enableListener', { address: `${a.address}:${PORT}` });
    fingerprint = listener.fingerprint!;
    expect(fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(listener.urls).toEqual([server()]);
    const admin = (Object.keys(operations) as OperationName[]).filter((n) => operations[n].plane === 'admin');
    // One probe process for every route (one process each took minutes on a loaded machine).
    const batch = admin.map((name) => {
      const spec = operations[name];
      let p = spec.path;
      for (const param of pathParams(spec.path))
        p = p.replace(`:${param}`, param === 'id' ? 'abcdefghij012345' : 'app');
      return { url: `${server()}${p}`, method: spec.method };
    });
    batch.push({ url: `${server()}/v1/events`, method: 'GET' });
    const { results } = await probeFromB({ batch });
    expect(results).toHaveLength(admin.length + 1);
    expect(results!.map((r, i) => [[...admin, 'events'][i], r.status ?? r.error])).toEqual(
      [...admin, 'events'].map((name) => [name, 404]),
    );
    // Plain HTTP to the TLS port: no HTTP answer, no data.
    const plain = await probeFromB({
      tcp: `${a.address}:${PORT}`,
      send: 'GET /v1/secrets HTTP/1.1\r\nHost: x\r\n\r\n',
    });
    expect(plain.data ?? '').not.toMatch(/HTTP\/1\.[01] \d{3}/);
  }, 120_000);

  it('runs a command on B with exactly the scoped keys, and pull, secrets get, token lookup work', async () => {
    const lease = await issue(['DATABASE_URL', 'REDIS_URL']);
    expect([lease.server, lease.fingerprint]).toEqual([server(), fingerprint]);
    const env = { BELLA_SERVER: server(), BELLA_SERVER_FINGERPRINT: fingerprint, BELLA_TOKEN: lease.token };
    const run = await holder(['run', '--', 'env'], env);
    expect(run.code, run.stderr).toBe(0);
    const vars = Object.fromEntries(
      run.stdout
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(vars).toMatchObject({ DATABASE_URL: 'postgres://db', REDIS_URL: 'redis://r' });
    expect(vars.STRIPE_KEY).toBeUndefined();
    expect(vars.BELLA_TOKEN).toBeUndefined();
    expect((await holder(['secrets', 'get', 'REDIS_URL'], env)).stdout).toBe('redis://r\n');
    expect((await holder(['pull', '-o', 'json'], env)).stdout).toContain('postgres://db');
    const lookup = JSON.parse((await holder(['token', 'lookup', '--json'], env)).stdout) as {
      lease: { id: string; uses: number };
    };
    expect(lookup.lease).toMatchObject({ id: lease.lease.id, uses: 3 });
    // The read was audited with B's address.
    const reads = await owner.call('listAudit', { lease: lease.lease.id, event: 'SecretsRead', limit: 1 });
    expect(reads.entries[0]?.source).toBe(b.address);
    // The holder's machine got no daemon, no data directory, no socket.
    expect(fs.readdirSync(holderHome)).toEqual([]);
  }, 60_000);

  it('refuses a wrong fingerprint before sending anything: a fake server gets no Authorization', async () => {
    const fake = await generateSelfSigned({ dnsNames: ['fake.test'], ipAddresses: [a.address] });
    const certFile = path.join(root, 'fake-cert.pem');
    const keyFile = path.join(root, 'fake-key.pem');
    fs.writeFileSync(certFile, fake.certPem);
    fs.writeFileSync(keyFile, fake.keyPem, { mode: 0o600 });
    const events: string[] = [];
    const stub = a.spawn(
      process.execPath,
      fixtureArgs('tls-server', { host: a.address, port: PORT + 1, certFile, keyFile }),
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    stub.stdout!.setEncoding('utf8').on('data', (d: string) => events.push(...d.trim().split('\n')));
    try {
      await waitFor(() => events.some((e) => e.includes('listening')), 'the fake server');
      const lease = await issue(['DATABASE_URL']);
      const res = await holder(['pull'], {
        BELLA_SERVER: `https://${a.address}:${PORT + 1}`,
        BELLA_SERVER_FINGERPRINT: fingerprint,
        BELLA_TOKEN: lease.token,
      });
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(fake.fingerprint);
      expect(res.stderr).toContain(fingerprint);
      await new Promise((r) => setTimeout(r, 300));
      expect(events.filter((e) => e.includes('"request"') || e.includes('authorization'))).toEqual([]);
      expect(events.join('\n')).not.toContain(lease.token.slice(-43));
    } finally {
      stub.kill('SIGKILL');
    }
  }, 60_000);

  it('refuses remotely what the owner revoked or rotated, and a lease from its expiry instant', async () => {
    const revoked = await issue(['DATABASE_URL']);
    const env = (token: string) => ({
      BELLA_SERVER: server(),
      BELLA_SERVER_FINGERPRINT: fingerprint,
      BELLA_TOKEN: token,
    });
    expect((await holder(['secrets', 'get', 'DATABASE_URL'], env(revoked.token))).code).toBe(0);
    await owner.call('revokeLease', { id: revoked.lease.id });
    const afterRevoke = await holder(['secrets', 'get', 'DATABASE_URL'], env(revoked.token));
    expect([afterRevoke.code, afterRevoke.stderr]).toEqual([1, expect.stringMatching(/revoked/)]);

    const rotated = await issue(['DATABASE_URL']);
    await owner.call('expireAll', { project: 'app', environment: 'prod' });
    const fresh = await issue(['DATABASE_URL']);
    expect((await holder(['secrets', 'get', 'DATABASE_URL'], env(rotated.token))).stderr).toMatch(/rotated/);
    expect((await holder(['secrets', 'get', 'DATABASE_URL'], env(fresh.token))).stdout).toBe('postgres://db\n');

    const short = await issue(['DATABASE_URL'], 2);
    expect((await holder(['secrets', 'get', 'DATABASE_URL'], env(short.token))).code).toBe(0);
    const expiresAt = Date.parse(short.lease.expiresAt);
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now())));
    const late = await holder(['secrets', 'get', 'DATABASE_URL'], env(short.token));
    expect([late.code, late.stderr]).toEqual([1, expect.stringMatching(/expired/)]);

    // The holder ends its own lease, remotely.
    const ci = await issue(['REDIS_URL']);
    expect((await holder(['token', 'revoke'], env(ci.token))).code).toBe(0);
    expect((await owner.call('getLease', { id: ci.lease.id })).lease.status).toBe('revoked');
  }, 60_000);

  it('answers 200 bad tokens from B with 429s, and the audit trail grows by a bounded amount', async () => {
    const before = auditBytes(home);
    const res = await probeFromB({
      url: `${server()}/v1/secrets`,
      method: 'GET',
      repeat: 200,
      headers: { authorization: `Bearer bax-${'a'.repeat(16)}-${'b'.repeat(43)}` },
    });
    const statuses = JSON.parse(res.body!) as Record<string, number>;
    expect(statuses['429']).toBeGreaterThan(150);
    await stopDaemon();
    expect(auditBytes(home) - before).toBeLessThan(20_000);
    await startDaemon();
    // The listener came back with the restart, with the same certificate.
    const { listener } = await owner.call('getListener', {});
    expect([listener.listening, listener.fingerprint]).toEqual([[`${a.address}:${PORT}`], fingerprint]);
    await owner.call('disableListener', {});
    expect((await probeFromB({ tcp: `${a.address}:${PORT}` })).error).toMatch(/ECONNREFUSED/);
  }, 60_000);

  it('on 0.0.0.0, the hand-over names the address B can reach (not the host name) and says it chose it', async () => {
    await owner.call('enableListener', { address: `0.0.0.0:${PORT}` });
    const ownerCli = (args: string[]) =>
      a.run(process.execPath, [cliPath, ...args], {
        env: { ...process.env, BELLA_HOME: home, BELLA_SOCKET: socket },
        cwd: root,
      });
    const status = await ownerCli(['listener', 'status', '--json']);
    const { listener } = JSON.parse(status.stdout) as { listener: { urls: string[]; urlNote: string } };
    // A's only routable address is its end of the link; loopback and the host name are not offered.
    expect(listener.urls).toEqual([server()]);
    expect(listener.urlNote).toContain(`BELLA_SERVER is ${server()}, this machine's first routable address`);

    const issued = await ownerCli([
      'leases',
      'issue',
      '-p',
      'app',
      '-e',
      'prod',
      '--scope',
      'REDIS_URL',
      '--reason',
      'x',
    ]);
    expect(issued.code, issued.stderr).toBe(0);
    expect(issued.stderr).toContain(`this machine's first routable address`);
    // B pastes the hand-over lines as they were printed.
    const pasted = Object.fromEntries(
      issued.stderr
        .split('\n')
        .map((line) => /^ {2}export (BELLA_[A-Z_]+)=(.*)$/.exec(line))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1]!, m[2]!]),
    );
    expect(pasted.BELLA_SERVER).toBe(server());
    const read = await holder(['secrets', 'get', 'REDIS_URL'], pasted);
    expect([read.code, read.stdout], read.stderr).toEqual([0, 'redis://r\n']);
    await owner.call('disableListener', {});
  }, 60_000);
});
