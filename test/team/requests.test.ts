import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest, AuditEntry, IssuedLease, Lease } from '../../daemon/api';
import { waitFor } from '../helpers/cli';
import { startNotificationBus, type TestBus } from '../helpers/dbus';
import { createNetnsPair } from '../helpers/netns';
import { ok, startTeamHosts, type TeamHosts } from './team-hosts';

/**
 * Access requests and break-glass (issue 17, items 4 and 5) on two hosts: the owner's daemon in
 * namespace A (under a private D-Bus session, with a webhook channel to a receiver on A's own
 * loopback), alice (member, request grants) and bob (admin) working from B with the real CLI.
 */
const netns = createNetnsPair();
if (!netns.ok) console.warn(`request tests skipped: ${netns.reason}`);
const HOOK_PORT = 8099;

/** A webhook receiver on the namespace's loopback: appends each body, one JSON line, to argv[1]. */
const RECEIVER = `
const http = require('node:http');
const fs = require('node:fs');
http.createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => {
    fs.appendFileSync(process.argv[1], JSON.stringify(JSON.parse(body)) + '\\n');
    res.end('ok');
  });
}).listen(${HOOK_PORT}, '127.0.0.1', () => console.log('ready'));
`;

describe.skipIf(!netns.ok)(
  `access requests and break-glass across two hosts${netns.ok ? '' : ` (skipped: ${netns.reason})`}`,
  () => {
    let t: TeamHosts;
    let bus: TestBus;
    let receiver: ChildProcess;
    let hooks: string;
    const received = (): Array<{ type: string; data: Record<string, unknown> }> =>
      fs.existsSync(hooks)
        ? fs
            .readFileSync(hooks, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> })
        : [];
    const request = (...extra: string[]) =>
      t.as('alice', ['request', '-p', 'my-api', '-e', 'production', '--scope', 'DATABASE_URL,REDIS_URL', ...extra]);
    const pending = async (): Promise<AccessRequest> => {
      let found: AccessRequest | undefined;
      await waitFor(async () => {
        const { requests } = await t.owner.call('listAccessRequests', { status: 'pending' });
        found = requests[0];
        return found !== undefined;
      }, 'a pending request');
      return found!;
    };
    const audit = async (event: string): Promise<AuditEntry[]> =>
      (await t.owner.call('listAudit', { event: event as AuditEntry['event'], limit: 100 })).entries;

    beforeAll(async () => {
      if (!netns.ok) return;
      bus = await startNotificationBus();
      t = await startTeamHosts(netns.pair, bus.env);
      hooks = path.join(t.root, 'hooks.jsonl');
      receiver = t.a.spawn(process.execPath, ['-e', RECEIVER, hooks], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise((resolve) => receiver.stdout!.once('data', resolve));
      await t.owner.call('addChannel', {
        kind: 'webhook',
        url: `http://127.0.0.1:${HOOK_PORT}/hook`,
        allowPrivate: true,
        insecureHttp: true,
        anyHost: true,
      });
      await t.owner.call('setLeasePolicy', {
        project: 'my-api',
        environment: 'production',
        ttlSeconds: 7200,
        warnBeforeSeconds: 600,
      });
      await t.enrol('alice', '--role', 'member', '--grant', 'my-api/production:request');
      await t.enrol('bob', '--role', 'admin');
    }, 90_000);

    afterAll(async () => {
      receiver?.kill('SIGTERM');
      await t?.stop();
      await bus?.stop();
    });

    it("alice's waiting request is approved by the owner: her token reads exactly the requested keys, its clock started at approval", async () => {
      const waiting = request('--ttl', '30m', '--reason', 'INC-4521');
      const asked = await pending();
      expect(asked).toMatchObject({ requester: 'alice', scope: ['DATABASE_URL', 'REDIS_URL'], reason: 'INC-4521' });

      // Approvers are told on the desktop who asks for what and why; the channel too, with no way to approve.
      const note = await bus.waitFor((c) => c.summary.includes('alice asks for access to my-api/production'), 10_000);
      expect(note.body).toContain('DATABASE_URL, REDIS_URL');
      expect(note.body).toContain('INC-4521');
      await waitFor(() => received().some((e) => e.type === 'AccessRequested'), 'the AccessRequested delivery');
      const event = received().find((e) => e.type === 'AccessRequested')!;
      expect(event.data).toMatchObject({ requester: 'alice', requestId: asked.id, reason: 'INC-4521' });
      expect(JSON.stringify(event).toLowerCase()).not.toMatch(/approve|https?:\/\//);

      // Members cannot approve (her own or any): 403.
      const self = await t.as('alice', ['requests', 'approve', asked.id]);
      expect(self.code).toBe(1);
      expect(self.stderr).toMatch(/not for members/);

      ok(await t.ownerCli(['requests', 'approve', asked.id, '--reason', 'on call']));
      const res = await waiting;
      const token = ok(res).trim();
      expect(token).toMatch(/^bax-/);
      expect(res.stderr).toContain('this token is shown once');

      const vars = ok(await t.as('alice', ['run', '--token', token, '--', 'env']));
      expect(vars).toContain('DATABASE_URL=postgres://production');
      expect(vars).toContain('REDIS_URL=redis://production');
      expect(vars).not.toContain('STRIPE_KEY');

      const { request: decided } = await t.owner.call('getAccessRequest', { id: asked.id });
      expect(decided).toMatchObject({
        status: 'approved',
        decidedBy: 'owner',
        decision: 'on call',
        tokenWaiting: false,
      });
      const lease: Lease = (await t.owner.call('getLease', { id: decided.leaseId! })).lease;
      expect(lease.issuedAt).toBe(decided.decidedAt);
      expect(Date.parse(lease.issuedAt)).toBeGreaterThan(Date.parse(decided.createdAt));
      expect(Date.parse(lease.expiresAt) - Date.parse(lease.issuedAt)).toBe(30 * 60 * 1000);
      // Hers: she sees and manages it as her own.
      expect(ok(await t.as('alice', ['leases', 'list', '--json']))).toContain(lease.id);
    });

    it('a denied request prints the reason and exits 1', async () => {
      const waiting = request('--reason', 'look around');
      const asked = await pending();
      ok(await t.ownerCli(['requests', 'deny', asked.id, '--reason', 'change freeze until Monday']));
      const res = await waiting;
      expect(res.code).toBe(1);
      expect(res.stdout).toBe('');
      expect(res.stderr).toContain('change freeze until Monday');
      const [entry] = await audit('AccessDenied');
      expect(entry).toMatchObject({ actor: 'owner', reason: 'change freeze until Monday' });
    });

    it('an admin (bob) approves; no one approves their own request; the token is handed over once', async () => {
      const id = ok(await request('--reason', 'INC-4600', '--no-wait')).trim();
      expect(id).toMatch(/^req_/);
      // Before approval there is no token to fetch.
      const early = await t.as('alice', ['requests', 'token', id]);
      expect(early.code).toBe(1);
      expect(early.stderr).toContain('still waiting');
      // Bob's own request (admins need no grant to ask) is not his to approve.
      const bobs = JSON.parse(
        ok(
          await t.as('bob', [
            'request',
            '-p',
            'my-api',
            '-e',
            'staging',
            '--scope',
            'STRIPE_KEY',
            '--reason',
            'mine',
            '--no-wait',
            '--json',
          ]),
        ),
      ) as { request: AccessRequest };
      const own = await t.as('bob', ['requests', 'approve', bobs.request.id]);
      expect(own.code).toBe(1);
      expect(own.stderr).toContain('no one approves or denies their own request');
      const listed = JSON.parse(ok(await t.as('alice', ['requests', 'list', '--json']))) as {
        requests: AccessRequest[];
      };
      expect(listed.requests.every((r) => r.requester === 'alice')).toBe(true);

      ok(await t.as('bob', ['requests', 'approve', id, '--ttl', '10m']));
      const first = await t.as('alice', ['requests', 'token', id, '--json']);
      const issued = JSON.parse(ok(first)) as IssuedLease;
      expect(issued.token).toMatch(/^bax-/);
      expect(issued.server).toBe(t.server);
      const again = await t.as('alice', ['requests', 'token', id]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('already handed over');
      const { request: r } = await t.owner.call('getAccessRequest', { id });
      expect(r.decidedBy).toMatch(/^bob \(device sha256:[0-9a-f]{64}\)$/);
      expect(r.tokenWaiting).toBe(false);
    });

    it('a request expires unanswered after its window', async () => {
      const res = await request('--reason', 'late night', '--window', '2s');
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/expired: no approver answered/);
      const { requests } = await t.owner.call('listAccessRequests', { status: 'expired' });
      expect(requests).toHaveLength(1);
      const id = requests[0]!.id;
      // The daemon records the expiry at the window's end, unprompted, once.
      await waitFor(
        async () => (await audit('AccessRequestExpired')).some((e) => e.message?.includes(id)),
        'the AccessRequestExpired entry',
      );
      const late = await t.ownerCli(['requests', 'approve', id]);
      expect(late.code).toBe(1);
      expect(late.stderr).toContain('expired unanswered');
      expect((await audit('AccessRequestExpired')).filter((e) => e.message?.includes(id))).toHaveLength(1);
      expect((await audit('AccessRequestExpired'))[0]!.actor).toBe('daemon');
    });

    it('break-glass: refused without the policy; with it granted at once, audited PolicyBypassed, announced, reviewed', async () => {
      const refused = await request('--reason', 'prod down', '--break-glass');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('break-glass is off for my-api/production');

      ok(
        await t.ownerCli([
          'environments',
          'set-lease-policy',
          '-p',
          'my-api',
          '-e',
          'production',
          '--ttl',
          '2h',
          '--warn-before',
          '10m',
          '--break-glass-ttl',
          '15m',
        ]),
      );
      const res = await request('--ttl', '1h', '--reason', 'prod down', '--break-glass');
      const token = ok(res).trim();
      expect(token).toMatch(/^bax-/);
      expect(ok(await t.as('alice', ['run', '--token', token, '--', 'env']))).toContain(
        'DATABASE_URL=postgres://production',
      );

      const note = await bus.waitFor((c) => c.summary.startsWith('Break-glass: alice'), 10_000);
      expect(note.body).toContain('prod down');
      await waitFor(() => received().some((e) => e.type === 'BreakGlass'), 'the BreakGlass delivery');
      expect(received().find((e) => e.type === 'BreakGlass')!.data).toMatchObject({ requester: 'alice' });

      const [bypass] = await audit('PolicyBypassed');
      expect(bypass!.actor).toMatch(/^alice \(device sha256:/);
      expect(bypass!.reason).toBe('prod down');
      const unreviewed = JSON.parse(ok(await t.ownerCli(['requests', 'list', '--unreviewed', '--json']))) as {
        requests: AccessRequest[];
      };
      expect(unreviewed.requests).toHaveLength(1);
      const glass = unreviewed.requests[0]!;
      const lease = (await t.owner.call('getLease', { id: glass.leaseId! })).lease;
      // At most the break-glass ttl, whatever was asked for.
      expect(Date.parse(lease.expiresAt) - Date.parse(lease.issuedAt)).toBe(15 * 60 * 1000);
      expect(ok(await t.ownerCli(['requests', 'list']))).toContain('break-glass (unreviewed)');

      // A break-glass lease is not renewed past what the policy allowed it.
      const renew = await t.as('alice', ['leases', 'renew', glass.leaseId!]);
      expect(renew.code).toBe(1);
      expect(renew.stderr).toContain('taken by break-glass and cannot be renewed');

      // Only the owner reviews it.
      expect((await t.as('bob', ['requests', 'review', glass.id])).code).toBe(1);
      ok(await t.ownerCli(['requests', 'review', glass.id, '--note', 'incident INC-4700 confirmed']));
      const after = JSON.parse(ok(await t.ownerCli(['requests', 'list', '--unreviewed', '--json']))) as {
        requests: AccessRequest[];
      };
      expect(after.requests).toHaveLength(0);
    });

    it('names every step’s actor: audit list --actor alice and --actor bob', async () => {
      const mine = JSON.parse(ok(await t.ownerCli(['audit', 'list', '--actor', 'alice', '--json']))) as {
        entries: AuditEntry[];
      };
      const events = new Set(mine.entries.map((e) => e.event));
      for (const e of ['AccessRequested', 'AccessTokenFetched', 'PolicyBypassed']) expect(events).toContain(e);
      const bobs = JSON.parse(ok(await t.ownerCli(['audit', 'list', '--actor', 'bob', '--json']))) as {
        entries: AuditEntry[];
      };
      expect(bobs.entries.map((e) => e.event)).toContain('AccessApproved');
      const owner = JSON.parse(
        ok(await t.ownerCli(['audit', 'list', '--actor', 'owner', '--event', 'BreakGlassReviewed', '--json'])),
      ) as { entries: AuditEntry[] };
      expect(owner.entries[0]!.reason).toBe('incident INC-4700 confirmed');
    });
  },
);
