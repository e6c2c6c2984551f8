import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operations, pathParams, type AuditEntry, type OperationName, type WhoAmI } from '../../daemon/api';
import type { DaemonClient } from '../../daemon/client';
import { makeDeviceKey, writeDeviceKey, writeMembership } from '../../daemon/client/device';
import { waitFor, type CliResult } from '../helpers/cli';
import { createNetnsPair, type Netns } from '../helpers/netns';
import { ok, startTeamHosts, type TeamHosts } from './team-hosts';

/**
 * A team on two hosts: network namespace A is the owner's box (the daemon, its socket, its
 * listener); B is where teammates work, each with her own HOME and no bella data of her own.
 */
const netns = createNetnsPair();
if (!netns.ok) console.warn(`team tests skipped: ${netns.reason}`);
const PORT = 7443;

/** Sends each request of argv[1] (JSON) over TLS without a client certificate; prints [name, status, code]s. */
const PROBE_ALL = `
import https from 'node:https';
const agent = new https.Agent({ keepAlive: true, rejectUnauthorized: false });
const out = [];
for (const r of JSON.parse(process.argv[1])) {
  out.push(await new Promise((resolve, reject) => {
    const req = https.request(r.url, { method: r.method, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => (body += d));
      res.on('end', () => resolve([r.name, res.statusCode, JSON.parse(body).error?.code ?? '']));
    });
    req.on('error', reject);
    const body = r.method === 'GET' || r.method === 'DELETE' ? undefined : '{}';
    if (body) req.setHeader('content-type', 'application/json');
    req.end(body);
  }));
}
agent.destroy();
console.log(JSON.stringify(out));
`;

describe.skipIf(!netns.ok)(
  `a team working with one owner's bella${netns.ok ? '' : ` (skipped: ${netns.reason})`}`,
  () => {
    const { b } = netns.ok ? netns.pair : ({} as { b: Netns });
    let t: TeamHosts;
    let root: string;
    let owner: DaemonClient;
    let fingerprint: string;
    let homes: Record<string, string>;
    const server = () => t.server;
    const ownerCli = (args: string[]): Promise<CliResult> => t.ownerCli(args);
    const as = (who: string, args: string[], extra: Record<string, string> = {}): Promise<CliResult> =>
      t.as(who, args, extra);
    const invite = async (name: string, ...flags: string[]) => {
      const res = await ownerCli(['team', 'invite', name, ...flags]);
      const code = ok(res).trim();
      expect(code).toMatch(/^bella-invite-[A-Za-z0-9_-]+$/);
      expect(res.stderr).toContain(`bella team join ${code}`);
      return code;
    };
    beforeAll(async () => {
      if (!netns.ok) return;
      t = await startTeamHosts(netns.pair, {}, PORT);
      ({ root, owner, fingerprint, homes } = t);
      await owner.call('setLeasePolicy', {
        project: 'my-api',
        environment: 'production',
        ttlSeconds: 3600,
        warnBeforeSeconds: 600,
      });
    }, 60_000);

    afterAll(async () => {
      await t?.stop();
    });

    it('enrols alice (member) and bob (admin) by invite codes; whoami says who each is', async () => {
      // No invite without the owner's socket: a teammate's machine has no daemon to ask.
      const aliceCode = await invite('alice', '--role', 'member', '--grant', 'my-api/production:issue');
      const bobJson = JSON.parse(ok(await ownerCli(['team', 'invite', 'bob', '--role', 'admin', '--json']))) as {
        code: string;
        invite: { name: string; role: string };
      };
      expect(bobJson.invite).toMatchObject({ name: 'bob', role: 'admin' });
      expect(bobJson.code).toMatch(/^bella-invite-/);

      const joined = await as('alice', ['team', 'join', aliceCode]);
      expect(ok(joined)).toContain(`joined ${server()} as alice (member)`);
      ok(await as('bob', ['team', 'join', bobJson.code]));

      // Her device key: P-256, 0600, in her config dir; no daemon and no data directory on B.
      const config = path.join(homes.alice!, '.config', 'bella');
      const key = path.join(config, 'device-key.pem');
      expect(fs.statSync(key).mode & 0o777).toBe(0o600);
      expect(fs.statSync(config).mode & 0o777).toBe(0o700);
      expect(fs.readFileSync(key, 'utf8')).toContain('BEGIN PRIVATE KEY');
      expect(fs.existsSync(path.join(homes.alice!, '.local', 'share', 'bella'))).toBe(false);

      const alice = JSON.parse(ok(await as('alice', ['whoami', '--json']))) as WhoAmI;
      expect(alice).toMatchObject({
        name: 'alice',
        role: 'member',
        grants: [{ project: 'my-api', environment: 'production', access: 'issue' }],
        server: server(),
      });
      expect(alice.device).toMatch(/^sha256:[0-9a-f]{64}$/);
      const human = ok(await as('alice', ['whoami']));
      expect(human).toContain('alice (member)');
      expect(human).toContain(alice.device!);
      expect(human).toContain('my-api/production:issue');
      const bob = JSON.parse(ok(await as('bob', ['whoami', '--json']))) as WhoAmI;
      expect(bob).toMatchObject({ name: 'bob', role: 'admin' });
      expect(bob.device).not.toBe(alice.device);

      // The owner sees both, with their devices and when they were last seen.
      const team = JSON.parse(ok(await ownerCli(['team', 'list', '--json']))) as {
        members: Array<{
          name: string;
          role: string;
          devices: Array<{ fingerprint: string; lastSeenAt: string | null }>;
        }>;
      };
      expect(team.members.map((m) => [m.name, m.role, m.devices.map((d) => d.fingerprint)])).toEqual([
        ['alice', 'member', [alice.device]],
        ['bob', 'admin', [bob.device]],
      ]);
      expect(team.members.every((m) => m.devices[0]!.lastSeenAt !== null)).toBe(true);
      expect(ok(await ownerCli(['whoami']))).toContain('owner');
    }, 120_000);

    it('lets alice issue within her grant and read exactly its keys, and refuses her (403) outside it', async () => {
      const issued = await as('alice', [
        'leases',
        'issue',
        '-p',
        'my-api',
        '-e',
        'production',
        '--scope',
        'DATABASE_URL,REDIS_URL',
        '--ttl',
        '4h',
        '--reason',
        'INC-4521',
      ]);
      const token = ok(issued).trim();
      expect(token).toMatch(/^bax-/);
      // Capped by the policy's ttl.
      expect(issued.stderr).toMatch(/capped|1h/);
      // Her token reads its scope through the same server, with no BELLA_SERVER set.
      const run = await as('alice', ['run', '--token', token, '--', 'env']);
      const vars = ok(run);
      expect(vars).toContain('DATABASE_URL=postgres://production');
      expect(vars).toContain('REDIS_URL=redis://production');
      expect(vars).not.toContain('STRIPE_KEY');

      // What her grants show: the project, her environment, key names, never values.
      const projects = JSON.parse(ok(await as('alice', ['projects', 'list', '--json']))) as {
        projects: Array<{ slug: string }>;
      };
      expect(projects.projects.map((p) => p.slug)).toEqual(['my-api']);
      const envs = JSON.parse(ok(await as('alice', ['environments', 'list', '--project', 'my-api', '--json']))) as {
        environments: Array<{ slug: string }>;
      };
      expect(envs.environments.map((e) => e.slug)).toEqual(['production']);
      const keys = ok(await as('alice', ['secrets', 'list', '-p', 'my-api', '-e', 'production', '--json']));
      expect(keys).toContain('STRIPE_KEY');
      expect(keys).not.toContain('sk_production');

      const refusals = [
        ['leases', 'issue', '-p', 'my-api', '-e', 'staging', '--scope', 'DATABASE_URL', '--reason', 'x'],
        ['secrets', 'get', 'DATABASE_URL', '-p', 'my-api', '-e', 'production'],
        ['secrets', 'list', '-p', 'my-api', '-e', 'production', '--show-values'],
        ['secrets', 'set', 'NEW_KEY', 'v', '-p', 'my-api', '-e', 'production'],
        ['audit', 'list'],
        ['team', 'list'],
      ];
      for (const args of refusals) {
        const res = await as('alice', [...args, '--json']);
        expect([args.join(' '), res.code]).toEqual([args.join(' '), 1]);
        expect(JSON.parse(res.stdout).error.code).toBe('permission_denied');
      }
      const staging = await as('alice', [
        'leases',
        'issue',
        '-p',
        'my-api',
        '-e',
        'staging',
        '--scope',
        'X',
        '--reason',
        'x',
      ]);
      expect(staging.stderr).toMatch(/no grant on my-api\/staging/);
    }, 120_000);

    it('lets bob (admin) issue and list leases remotely, but not manage the team', async () => {
      const token = ok(
        await as('bob', [
          'leases',
          'issue',
          '-p',
          'my-api',
          '-e',
          'staging',
          '--scope',
          'STRIPE_KEY',
          '--reason',
          'deploy',
        ]),
      ).trim();
      expect(token).toMatch(/^bax-/);
      const listed = JSON.parse(ok(await as('bob', ['leases', 'list', '--json']))) as {
        leases: Array<{ environment: string; reason: string }>;
      };
      // An admin sees every lease, alice's too; alice sees only her own.
      expect(listed.leases.map((l) => `${l.environment}:${l.reason}`).sort()).toEqual([
        'production:INC-4521',
        'staging:deploy',
      ]);
      const hers = JSON.parse(ok(await as('alice', ['leases', 'list', '--json']))) as {
        leases: Array<{ id: string; reason: string; expiresAt: string }>;
      };
      expect(hers.leases.map((l) => l.reason)).toEqual(['INC-4521']);
      // Her own lease she renews (within the policy's 1h) and could revoke; bob's she cannot touch.
      const mine = hers.leases[0]!;
      const renewed = JSON.parse(ok(await as('alice', ['leases', 'renew', mine.id, '--ttl', '8h', '--json']))) as {
        lease: { expiresAt: string; renewals: number };
        capped: { policySeconds: number } | null;
      };
      expect(renewed.lease.renewals).toBe(1);
      expect(renewed.capped?.policySeconds).toBe(3600);
      const bobs = JSON.parse(ok(await as('bob', ['leases', 'list', '-e', 'staging', '-p', 'my-api', '--json']))) as {
        leases: Array<{ id: string }>;
      };
      for (const args of [
        ['revoke', bobs.leases[0]!.id],
        ['show', bobs.leases[0]!.id],
        ['renew', bobs.leases[0]!.id],
      ]) {
        const res = await as('alice', ['leases', ...args, '--json']);
        expect([args[0], JSON.parse(res.stdout).error.code]).toEqual([args[0], 'permission_denied']);
      }
      const invite = await as('bob', ['team', 'invite', 'mallory', '--role', 'admin', '--json']);
      expect(JSON.parse(invite.stdout).error.code).toBe('permission_denied');
      const disable = await as('bob', ['listener', 'disable', '--json']);
      expect(JSON.parse(disable.stdout).error.code).toBe('permission_denied');
    }, 120_000);

    it("names each actor in the audit trail; audit list --actor finds a teammate's entries", async () => {
      const alice = JSON.parse(ok(await as('alice', ['whoami', '--json']))) as WhoAmI;
      const out = JSON.parse(ok(await ownerCli(['audit', 'list', '--actor', 'alice', '--json']))) as {
        entries: AuditEntry[];
      };
      const events = out.entries.map((e) => `${e.event}:${e.outcome}`);
      expect(events).toEqual(expect.arrayContaining(['LeaseIssued:Success', 'TeamJoined:Success']));
      expect(new Set(out.entries.map((e) => e.actor))).toEqual(new Set([`alice (device ${alice.device})`]));
      const issued = out.entries.find((e) => e.event === 'LeaseIssued')!;
      expect(issued).toMatchObject({ project: 'my-api', environment: 'production', reason: 'INC-4521' });
      const bobs = JSON.parse(
        ok(await ownerCli(['audit', 'list', '--actor', 'bob', '--event', 'LeaseIssued', '--json'])),
      ).entries as AuditEntry[];
      expect(bobs.map((e) => [e.environment, e.actor.startsWith('bob (device sha256:')])).toEqual([['staging', true]]);
      const owners = JSON.parse(
        ok(await ownerCli(['audit', 'list', '--actor', 'owner', '--event', 'TeamInvited', '--json'])),
      ).entries as AuditEntry[];
      expect(owners.map((e) => e.message)).toEqual([
        expect.stringMatching(/^invited bob as admin/),
        expect.stringMatching(/^invited alice as member with my-api\/production:issue/),
      ]);
      expect(ok(await ownerCli(['audit', 'list', '--actor', 'alice', '--wide']))).toContain(
        `alice (${alice.device!.slice(0, 15)}…)`,
      );
    }, 60_000);

    it('refuses a reused code and an expired one', async () => {
      const code = await invite('carol', '--role', 'member');
      ok(await as('carol', ['team', 'join', code]));
      const again = await as('dave', ['team', 'join', code]);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/invite code was refused \(unknown or already used\)/);

      // Its expiry from the invite's own answer: a loaded machine may pass it before a `team list`.
      const created = JSON.parse(
        ok(await ownerCli(['team', 'invite', 'erin', '--role', 'member', '--expires', '1s', '--json'])),
      ) as { code: string; invite: { expiresAt: string } };
      const short = created.code;
      const expiresAt = Date.parse(created.invite.expiresAt);
      await waitFor(async () => Date.now() > expiresAt + 200, 'the invite to expire');
      const late = await as('erin', ['team', 'join', short]);
      expect(late.code).toBe(1);
      expect(late.stderr).toMatch(/invite code was refused \(expired\)/);
      expect(fs.existsSync(path.join(homes.erin!, '.config', 'bella', 'team.json'))).toBe(false);
      // A made-up code of the right shape for the real invite id is refused too, and audited.
      const denied = await owner.call('listAudit', { event: 'TeamJoined', outcome: 'Denied' });
      expect(denied.entries.map((e) => e.message)).toEqual(
        expect.arrayContaining([expect.stringMatching(/unknown or already used/), expect.stringMatching(/expired/)]),
      );
    }, 60_000);

    it('without an enrolled client certificate every admin route is 404 over TLS', async () => {
      const admin = (Object.keys(operations) as OperationName[]).filter((n) => operations[n].plane === 'admin');
      expect(admin).toContain('whoami');
      const requests = admin.map((name) => {
        const spec = operations[name];
        let p = spec.path;
        for (const param of pathParams(spec.path))
          p = p.replace(`:${param}`, param === 'id' ? 'abcdefghij012345' : 'app');
        return { name, method: spec.method, url: `${server()}${p}` };
      });
      // One process on B sends them all, with no client certificate (it does not pin: it probes).
      const probe = await b.run(process.execPath, ['--input-type=module', '-e', PROBE_ALL, JSON.stringify(requests)], {
        env: { PATH: process.env.PATH, HOME: root },
        cwd: root,
      });
      expect(probe.code, probe.stderr).toBe(0);
      const statuses = JSON.parse(probe.stdout) as Array<[string, number, string]>;
      expect(statuses.length).toBe(admin.length);
      for (const [name, status, code] of statuses) expect([name, status, code]).toEqual([name, 404, 'not_found']);
      // A device key that was never enrolled, presented by the real CLI: the admin plane is not there.
      const stranger = path.join(root, 'stranger');
      const config = path.join(stranger, '.config', 'bella');
      const key = await makeDeviceKey('stranger');
      writeDeviceKey(config, key);
      writeMembership(config, {
        server: server(),
        serverFingerprint: fingerprint,
        name: 'stranger',
        fingerprint: key.fingerprint,
      });
      homes.stranger = stranger;
      const res = await as('stranger', ['leases', 'list', '--json']);
      expect(res.code).toBe(1);
      expect(JSON.parse(res.stdout).error).toMatchObject({ code: 'not_found' });
    }, 120_000);

    it("refuses alice's device at its next request once she is removed, and can revoke her leases", async () => {
      ok(await as('alice', ['leases', 'list']));
      const removed = JSON.parse(ok(await ownerCli(['team', 'remove', 'alice', '--revoke-leases', '--json']))) as {
        devices: number;
        revokedLeases: number;
      };
      expect(removed).toEqual({ removed: 'alice', devices: 1, revokedLeases: 1 });
      const after = await as('alice', ['leases', 'list']);
      expect(after.code).toBe(1);
      expect(after.stderr).toMatch(/this device was removed from the team/);
      expect((await as('alice', ['whoami'])).code).toBe(1);
      // Her refused attempts are audited under her name, once a minute at most.
      const refused = JSON.parse(
        ok(await ownerCli(['audit', 'list', '--actor', 'alice', '--event', 'DeviceRefused', '--json'])),
      ) as { entries: AuditEntry[] };
      expect(refused.entries.map((e) => [e.outcome, e.source])).toEqual([['Denied', b.address]]);
      const team = JSON.parse(ok(await ownerCli(['team', 'list', '--json']))) as { members: Array<{ name: string }> };
      expect(team.members.map((m) => m.name)).toEqual(['bob', 'carol']);
      // Bob is untouched.
      ok(await as('bob', ['leases', 'list']));
    }, 60_000);

    it('refuses a server whose certificate is not the one pinned at join, and says what to do', async () => {
      ok(await ownerCli(['listener', 'rotate-cert']));
      const res = await as('bob', ['leases', 'list']);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/the fingerprint pinned when this device joined \(.*team\.json\)/);
      expect(res.stderr).toMatch(/ask for a new invite and join again/);
    }, 60_000);
  },
);
