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
  const holder = (args: string[], token: string, servers = [nodes.a, nodes.b]): Promise<CliResult> =>
    hosts.holder!.run(process.execPath, [cliPath, ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: path.join(root, 'holder'),
        BELLA_SERVER: servers.map((node) => node.url).join(','),
        BELLA_SERVER_FINGERPRINT: servers.map(() => fingerprint).join(','),
        BELLA_TOKEN: token,
      },
      cwd: path.join(root, 'holder'),
    });
  const issue = (node: Node, reason: string, ttlSeconds = 3600) =>
    node.owner.call('issueLease', { project: 'app', environment: 'prod', scope: ['API_KEY'], reason, ttlSeconds });

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

  it('a standby redirects holders to the active node; after kill -9 of it the standby serves, and refuses what expired or was revoked on the old node', async () => {
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
    const brief = await issue(a, 'brief', 1);
    await waitFor(
      async () => (await a.owner.call('getLease', { id: brief.lease.id })).lease.status === 'expired',
      'the brief lease to expire on node a',
    );
    // The standby's socket serves its status, not changes.
    await expect(b.owner.call('createProject', { slug: 'nope', name: 'Nope' })).rejects.toThrow(
      `this bella daemon is a standby; node a at ${a.url} is active`,
    );
    const read = await holder(['secrets', 'get', 'API_KEY'], kept.token);
    expect([read.code, read.stdout], read.stderr).toEqual([0, 'k-1\n']);
    // Listed first, the standby redirects the holder to the active node.
    const redirected = await holder(['secrets', 'get', 'API_KEY'], kept.token, [b, a]);
    expect([redirected.code, redirected.stdout], redirected.stderr).toEqual([0, 'k-1\n']);
    const { entries } = await a.owner.call('listAudit', { event: 'SecretsRead', lease: kept.lease.id, limit: 10 });
    expect(entries).toHaveLength(2);
    // Listed alone, it names where it redirects to, which the holder did not list.
    const alone = await holder(['secrets', 'get', 'API_KEY'], kept.token, [b]);
    expect(alone.code).toBe(1);
    expect(alone.stderr).toContain(`${b.url} redirected to ${a.url}, which is not one of BELLA_SERVER's servers`);

    await kill9(a);
    await becomesActive(b);
    expect(await storage(b)).toMatchObject({ role: 'active', epoch: 2, active: { node: 'b', url: b.url, epoch: 2 } });
    const after = await holder(['secrets', 'get', 'API_KEY'], kept.token);
    expect([after.code, after.stdout], after.stderr).toEqual([0, 'k-1\n']);
    const refused = await holder(['secrets', 'get', 'API_KEY'], revoked.token);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('revoked');
    const expired = await holder(['secrets', 'get', 'API_KEY'], brief.token);
    expect(expired.code).toBe(1);
    expect(expired.stderr).toContain('expired');
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

  it('a hung active node (SIGSTOP) is replaced within the idle timeout; when it resumes, the change it was asked meanwhile is refused and it steps down', async () => {
    const { a, b } = nodes;
    expect(await storage(b)).toMatchObject({ role: 'active', epoch: 2 });
    b.proc!.kill('SIGSTOP');
    try {
      await becomesActive(a, IDLE_TIMEOUT_MS * 5);
      expect(await storage(a)).toMatchObject({ role: 'active', epoch: 3 });
      // A change asked of the stopped node while it is stopped: it runs when the node resumes, and
      // is refused whichever the node learns first, that its session ended (it steps down) or that
      // the epoch moved on (the fence inside the commit: test/store/postgres-store.test.ts).
      const late = b.owner.call('createProject', { slug: 'late', name: 'Late' });
      late.catch(() => undefined);
      b.proc!.kill('SIGCONT');
      await expect(late).rejects.toMatchObject({ code: 'unavailable' });
    } finally {
      b.proc!.kill('SIGCONT');
    }
    await waitFor(
      async () => (await storage(b).catch(() => null))?.role === 'standby',
      `node b to step down:\n${readLog(b.log)}`,
    );
    expect(await storage(b)).toMatchObject({ role: 'standby', epoch: null, active: { node: 'a', epoch: 3 } });
    expect(readLog(b.log)).toMatch(/leadership lost: .*|this node is no longer active/);
    const { projects } = await a.owner.call('listProjects', {});
    expect(projects.map((p) => p.slug)).toEqual(['app']);
    const verdict = await a.owner.call('verifyAudit', {});
    expect(verdict.ok).toBe(true);
    expect(verdict.epochs!.map((e) => e.epoch)).toEqual([1, 2, 3]);
  }, 120_000);

  it('loses no acknowledged change across 20 kill -9 failovers under load, and the audit chain verifies across them', async () => {
    let [active, standby] = [nodes.a, nodes.b];
    expect(await storage(active)).toMatchObject({ role: 'active' });
    const acked: string[] = [];
    for (let round = 1; round <= 20; round++) {
      let ackedThisRound = 0;
      let killing: Promise<void> | null = null;
      const victim = active;
      const writers = Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 200; i++) {
          try {
            const issued = await issue(victim, `round ${round}`);
            acked.push(issued.lease.id);
            if (++ackedThisRound === 5) killing = kill9(victim);
          } catch {
            return;
          }
        }
      });
      await Promise.all(writers);
      await killing;
      expect(ackedThisRound).toBeGreaterThanOrEqual(5);
      await becomesActive(standby);
      await start(victim);
      [active, standby] = [standby, active];
    }
    const { leases } = await active.owner.call('listLeases', { project: 'app', environment: 'prod', limit: 10_000 });
    const present = new Set(leases.map((l) => l.id));
    expect(acked.filter((id) => !present.has(id))).toEqual([]);
    const verdict = await standby.owner.call('verifyAudit', {});
    expect(verdict).toMatchObject({ ok: true, firstBroken: null });
    expect(verdict.epochs!.map((e) => e.epoch)).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
  }, 300_000);

  it('a holder listing both nodes keeps reading through a failover', async () => {
    const active = (await storage(nodes.a)).role === 'active' ? nodes.a : nodes.b;
    const other = active === nodes.a ? nodes.b : nodes.a;
    const lease = await issue(active, 'reads through a failover');
    const results: CliResult[] = [];
    const reads = (async () => {
      for (let i = 0; i < 12; i++) results.push(await holder(['secrets', 'get', 'API_KEY'], lease.token));
    })();
    await waitFor(() => results.length >= 3, 'three reads');
    // The fourth read is under way when the active node dies.
    await new Promise((r) => setTimeout(r, 50));
    await kill9(active);
    await reads;
    expect(results.map((r) => [r.code, r.stdout, r.stderr])).toEqual(results.map(() => [0, 'k-1\n', '']));
    expect(await storage(other)).toMatchObject({ role: 'active' });
    await start(active);
  }, 120_000);

  it("a teammate invited with both nodes' URLs keeps issuing through a failover", async () => {
    const active = (await storage(nodes.a)).role === 'active' ? nodes.a : nodes.b;
    const other = active === nodes.a ? nodes.b : nodes.a;
    const ownerCli = (args: string[]) =>
      active.host.run(process.execPath, [cliPath, ...args], {
        env: { PATH: process.env.PATH, HOME: root, BELLA_HOME: active.home, BELLA_SOCKET: active.socket },
        cwd: root,
      });
    const mia = path.join(root, 'mia');
    fs.mkdirSync(mia, { mode: 0o700 });
    const asMia = (args: string[]) =>
      hosts.holder!.run(process.execPath, [cliPath, ...args], { env: { PATH: process.env.PATH, HOME: mia }, cwd: mia });
    const issueAsMia = async (reason: string) => {
      const res = await asMia(['leases', 'issue', '-p', 'app', '-e', 'prod', '--scope', 'API_KEY', '--reason', reason]);
      expect([res.code, res.stderr]).toEqual([0, expect.any(String)]);
      return res.stdout.trim();
    };

    const member = ['team', 'invite', 'mia', '--role', 'member', '--grant', 'app/prod:issue'];
    const plain = await ownerCli([...member, '--server', `${nodes.a.url},http://${nodes.b.host.address}:${PORT}`]);
    expect([plain.code, plain.stderr]).toEqual([1, expect.stringContaining('is not https://HOST[:PORT]')]);
    const servers = `${nodes.a.url},${nodes.b.url}`;
    const invited = await ownerCli([...member, '--server', servers]);
    expect(invited.code).toBe(0);
    const joined = await asMia(['team', 'join', invited.stdout.trim()]);
    expect([joined.code, joined.stdout]).toEqual([0, expect.stringContaining(`joined ${servers} as mia (member)`)]);
    const team = JSON.parse(fs.readFileSync(path.join(mia, '.config', 'bella', 'team.json'), 'utf8')) as Record<
      string,
      string
    >;
    expect(team).toMatchObject({ server: servers, serverFingerprint: `${fingerprint},${fingerprint}` });
    expect(await issueAsMia('before the failover')).toMatch(/^bax-/);

    await kill9(active);
    await becomesActive(other);
    const token = await issueAsMia('after the failover');
    expect(token).toMatch(/^bax-/);
    const read = await holder(['secrets', 'get', 'API_KEY'], token, [other]);
    expect([read.code, read.stdout]).toEqual([0, 'k-1\n']);
    const { entries } = await other.owner.call('listAudit', { actor: 'mia', event: 'LeaseIssued' });
    expect(entries.map((e) => e.reason).sort()).toEqual(['after the failover', 'before the failover']);
    await start(active);
  }, 120_000);
});
