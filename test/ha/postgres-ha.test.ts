// Issue 22: two bella daemons on one PostgreSQL, on hosts of their own (network namespaces), the
// cluster on a third and holders on a fourth. One node is active; the other redirects holders to
// it, and takes over when it dies (kill -9) or hangs (SIGSTOP).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageStatus } from '../../daemon/api';
import { DaemonClient } from '../../daemon/client';
import { cliPath, waitFor, type CliResult } from '../helpers/cli';
import { daemonScript, readLog } from '../helpers/daemon';
import { createNetnsLan, type Netns } from '../helpers/netns';
import { startPostgres, type PgCluster } from '../helpers/postgres';

const lan = createNetnsLan(['pg', 'a', 'b', 'holder']);
if (!lan.ok) console.warn(`HA tests skipped: ${lan.reason}`);
const PORT = 7443;
/** PostgreSQL ends a silent active node's session after this long: the bound of a SIGSTOP takeover. */
const IDLE_TIMEOUT_MS = 2000;

interface Node {
  name: 'a' | 'b';
  host: Netns;
  home: string;
  socket: string;
  log: string;
  url: string;
  proc: ChildProcess | null;
  owner: DaemonClient;
}

describe.skipIf(!lan.ok)(`two bella daemons on PostgreSQL${lan.ok ? '' : ` (skipped: ${lan.reason})`}`, () => {
  const hosts = lan.ok ? lan.lan.hosts : ({} as Record<string, Netns>);
  let root: string;
  let pg: PgCluster;
  let store: string;
  let fingerprint: string;
  const nodes = {} as Record<'a' | 'b', Node>;

  const place = (name: 'a' | 'b'): Node => {
    const home = path.join(root, name);
    return {
      name,
      host: hosts[name]!,
      home,
      socket: path.join(root, `${name}.sock`),
      log: path.join(root, `${name}.log`),
      url: `https://${hosts[name]!.address}:${PORT}`,
      proc: null,
      owner: new DaemonClient({ socketPath: path.join(root, `${name}.sock`), timeoutMs: 30_000 }),
    };
  };

  const start = async (node: Node) => {
    const out = fs.openSync(node.log, 'a');
    node.proc = node.host.spawn(
      process.execPath,
      [
        daemonScript,
        '--home',
        node.home,
        '--socket',
        node.socket,
        '--store',
        store,
        '--node',
        node.name,
        '--url',
        node.url,
      ],
      { stdio: ['ignore', out, out], env: { ...process.env, BELLA_PG_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS) } },
    );
    fs.closeSync(out);
    await waitFor(
      () => node.owner.ping().catch(() => false),
      `node ${node.name} to answer:\n${readLog(node.log)}`,
      20_000,
    );
  };
  const storage = async (node: Node) =>
    (await node.owner.call('status', {})).storage as Extract<StorageStatus, { kind: 'postgres' }>;
  const becomesActive = (node: Node, timeoutMs = 10_000) =>
    waitFor(
      async () => (await storage(node).catch(() => null))?.role === 'active',
      `node ${node.name} to be active`,
      timeoutMs,
    );
  const kill9 = async (node: Node) => {
    const proc = node.proc!;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await gone;
    node.proc = null;
  };
  const holder = (args: string[], token: string): Promise<CliResult> =>
    hosts.holder!.run(process.execPath, [cliPath, ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: path.join(root, 'holder'),
        BELLA_SERVER: `${nodes.a.url},${nodes.b.url}`,
        BELLA_SERVER_FINGERPRINT: `${fingerprint},${fingerprint}`,
        BELLA_TOKEN: token,
      },
      cwd: path.join(root, 'holder'),
    });
  const issue = (node: Node, reason: string, scope = ['API_KEY']) =>
    node.owner.call('issueLease', { project: 'app', environment: 'prod', scope, reason, ttlSeconds: 3600 });

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-ha-'));
    fs.mkdirSync(path.join(root, 'holder'), { mode: 0o700 });
    pg = await startPostgres(hosts.pg);
    pg.sql('CREATE DATABASE bella');
    store = pg.url('bella');
    nodes.a = place('a');
    nodes.b = place('b');
    // The first node creates the key file and the listener's certificate (naming both nodes)…
    await start(nodes.a);
    await becomesActive(nodes.a);
    const owner = nodes.a.owner;
    await owner.call('createProject', { slug: 'app', name: 'App' });
    await owner.call('createEnvironment', { project: 'app', slug: 'prod', name: 'prod' });
    await owner.call('importSecrets', { project: 'app', environment: 'prod', dotenv: 'API_KEY=k-1\nOTHER=o-1\n' });
    const { listener } = await owner.call('enableListener', {
      address: `0.0.0.0:${PORT}`,
      names: [hosts.a!.address, hosts.b!.address],
    });
    fingerprint = listener.fingerprint!;
    // …which the second gets as copies, as README's "Two machines for a team" says.
    fs.mkdirSync(path.join(nodes.b.home, 'listener'), { recursive: true, mode: 0o700 });
    for (const file of ['master.key', 'listener/cert.pem', 'listener/key.pem'])
      fs.copyFileSync(path.join(nodes.a.home, file), path.join(nodes.b.home, file));
    await start(nodes.b);
  }, 120_000);

  afterAll(async () => {
    for (const node of Object.values(nodes)) {
      node.owner.close();
      node.proc?.kill('SIGKILL');
    }
    if (lan.ok) lan.lan.cleanup();
    pg?.destroy();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('a standby redirects holders to the active node; after kill -9 of it the standby serves, and refuses what the old node revoked', async () => {
    const { a, b } = nodes;
    expect(await storage(b)).toMatchObject({
      role: 'standby',
      node: 'b',
      epoch: null,
      active: { node: 'a', url: a.url },
    });
    const kept = await issue(a, 'kept');
    const revoked = await issue(a, 'revoked');
    await a.owner.call('revokeLease', { id: revoked.lease.id, reason: 'left the team' });
    // The standby's socket serves its status, not changes.
    await expect(b.owner.call('createProject', { slug: 'nope', name: 'Nope' })).rejects.toThrow(
      `this bella daemon is a standby; node a at ${a.url} is active`,
    );
    const read = await holder(['secrets', 'get', 'API_KEY'], kept.token);
    expect([read.code, read.stdout], read.stderr).toEqual([0, 'k-1\n']);

    await kill9(a);
    await becomesActive(b);
    expect(await storage(b)).toMatchObject({ role: 'active', epoch: 2, active: { node: 'b', url: b.url, epoch: 2 } });
    const after = await holder(['secrets', 'get', 'API_KEY'], kept.token);
    expect([after.code, after.stdout], after.stderr).toEqual([0, 'k-1\n']);
    const refused = await holder(['secrets', 'get', 'API_KEY'], revoked.token);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('revoked');
    const fresh = await issue(b, 'after failover');
    expect((await holder(['secrets', 'get', 'API_KEY'], fresh.token)).stdout).toBe('k-1\n');

    // The old node comes back as a standby of the new one.
    await start(a);
    expect(await storage(a)).toMatchObject({ role: 'standby', active: { node: 'b', epoch: 2 } });
    // The audit chain continues across the failover, verified from the standby.
    const verdict = await a.owner.call('verifyAudit', {});
    expect(verdict).toMatchObject({ ok: true, firstBroken: null });
    expect(verdict.epochs!.map((e) => e.epoch)).toEqual([1, 2]);
    expect(verdict.epochs![1]!.first).toBe(verdict.epochs![0]!.last + 1);
  }, 120_000);
});
