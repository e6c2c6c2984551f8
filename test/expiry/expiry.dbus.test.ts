import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEntry, Lease } from '../../daemon/api';
import { DaemonClient } from '../../daemon/client';
import { BellaSandbox, waitFor } from '../helpers/cli';
import { notifySendProcesses, startBareBus, startHungBus, startNotificationBus, type TestBus } from '../helpers/dbus';

const sandboxes: BellaSandbox[] = [];
const buses: TestBus[] = [];
afterEach(async () => {
  for (const s of sandboxes.splice(0)) await s.stop();
  for (const b of buses.splice(0)) await b.stop();
});

async function setup(bus: TestBus | null, env: Record<string, string> = {}) {
  const bella = new BellaSandbox();
  sandboxes.push(bella);
  const busEnv = bus ? bus.env : { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bella-no-bus' };
  const opts = { env: { ...busEnv, ...env } };
  await bella.ok(['projects', 'create', '--name', 'My API', '--slug', 'my-api'], opts);
  await bella.ok(
    ['environments', 'create', '--project', 'my-api', '--name', 'Production', '--slug', 'production'],
    opts,
  );
  await bella.ok(['secrets', 'set', 'DATABASE_URL', 'postgres://db', '-p', 'my-api', '-e', 'production'], opts);
  await bella.ok(['secrets', 'set', 'REDIS_URL', 'redis://cache', '-p', 'my-api', '-e', 'production'], opts);
  return { bella, opts, client: new DaemonClient({ socketPath: bella.socket }) };
}

function setPolicy(bella: BellaSandbox, opts: object, ttl: string, warnBefore: string): Promise<string> {
  return bella.ok(
    [
      'environments',
      'set-lease-policy',
      '--project',
      'my-api',
      '--environment',
      'production',
      '--ttl',
      ttl,
      '--warn-before',
      warnBefore,
    ],
    opts,
  );
}

function issueArgs(ttl: string, reason: string) {
  return [
    'leases',
    'issue',
    '--project',
    'my-api',
    '--environment',
    'production',
    '--scope',
    'DATABASE_URL',
    '--ttl',
    ttl,
    '--reason',
    reason,
  ];
}

/** The entries matching `filters`, oldest first (`audit list` answers newest first). */
async function audit(bella: BellaSandbox, opts: object, ...filters: string[]): Promise<AuditEntry[]> {
  const entries = JSON.parse(await bella.ok(['audit', 'list', ...filters, '-o', 'json'], opts)).entries as AuditEntry[];
  return entries.reverse();
}

describe('expiry engine and desktop notifications (real daemon, real D-Bus)', () => {
  it('warns within 1 s of the warn instant and expires within 1 s of expiry', async () => {
    const bus = await startNotificationBus();
    buses.push(bus);
    const { bella, opts } = await setup(bus);
    await setPolicy(bella, opts, '8s', '4s');
    const issued = JSON.parse(await bella.ok([...issueArgs('8s', 'Incident 4711'), '--json'], opts)) as {
      lease: Lease;
    };
    const expiresAt = Date.parse(issued.lease.expiresAt);
    const warnAt = expiresAt - 4000;

    const call = await bus.waitFor((c) => c.summary.includes('my-api/production'), 10_000);
    expect(call.appName).toBe('bella');
    expect(call.body).toContain('Incident 4711');
    expect(call.body).toContain('DATABASE_URL');
    expect(call.at).toBeGreaterThanOrEqual(warnAt - 50);
    expect(call.at - warnAt).toBeLessThanOrEqual(1000);

    const seenExpiredAt = await waitFor(
      async () => {
        const list = JSON.parse(await bella.ok(['leases', 'list', '--all', '--json'], opts)) as { leases: Lease[] };
        const lease = list.leases.find((l) => l.id === issued.lease.id);
        return lease?.status === 'expired' && lease.endedAt ? Date.now() : 0;
      },
      'the lease to be expired in leases list --all',
      15_000,
    );
    expect(seenExpiredAt - expiresAt).toBeLessThanOrEqual(1000);
    // The listing says `expired` from the expiry instant on (computed from the clock); the timer
    // commits LeaseExpired a moment later: wait for the entry that is asserted.
    const entries = await waitFor(
      async () => {
        const found = await audit(bella, opts, '--lease', issued.lease.id);
        return found.some((e) => e.event === 'LeaseExpired') ? found : null;
      },
      'the LeaseExpired entry',
      10_000,
    );
    expect(entries.map((e) => e.event)).toEqual(['LeaseIssued', 'LeaseExpiringSoon', 'LeaseExpired']);
    expect(Date.parse(entries[2]!.ts)).toBe(expiresAt);
    expect(bus.notifications()).toHaveLength(1);
  });

  it('groups 20 leases issued together into one notification', async () => {
    const bus = await startNotificationBus();
    buses.push(bus);
    const { bella, opts, client } = await setup(bus);
    await setPolicy(bella, opts, '6s', '3s');
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client.call('issueLease', {
          project: 'my-api',
          environment: 'production',
          scope: ['REDIS_URL'],
          reason: `job ${i}`,
        }),
      ),
    );
    const call = await bus.waitFor((c) => c.summary.startsWith('20 leases in my-api/production'), 10_000);
    expect(call.body).toContain('bella leases list --project my-api --environment production');
    // Past every expiry, still exactly one notification.
    await waitFor(
      async () => (await client.call('listLeases', { status: 'active' })).total === 0 || undefined,
      'all expired',
      15_000,
    );
    expect(bus.notifications()).toHaveLength(1);
    client.close();
  });

  it('shows a hostile reason as text and runs nothing', async () => {
    const marker = '/tmp/bella-pwned';
    fs.rmSync(marker, { force: true });
    const bus = await startNotificationBus();
    buses.push(bus);
    const { bella, opts } = await setup(bus);
    await setPolicy(bella, opts, '4s', '3s');
    const reason = '$(touch /tmp/bella-pwned) `id`';
    await bella.ok(issueArgs('4s', reason), opts);
    const call = await bus.waitFor((c) => c.summary.includes('my-api/production'), 10_000);
    expect(call.body).toContain(`Reason: ${reason}`);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('answers every request while a notification hangs on a server that never replies', async () => {
    // The server owns the name and never answers: the daemon's notify-send stays blocked for the
    // notifier's timeout (a minute here). Requests made meanwhile must not wait for it.
    const bus = await startHungBus();
    buses.push(bus);
    const { bella, opts, client } = await setup(bus, { BELLA_NOTIFY_TIMEOUT_MS: '60000' });
    await setPolicy(bella, opts, '2s', '1s');
    await bella.ok(issueArgs('2s', 'warned while the server hangs'), opts);
    await waitFor(() => bus.methodCalls()[0], 'the warning to reach the server', 15_000);
    for (let i = 0; i < 10; i++) {
      const { lease, token } = await client.call('issueLease', {
        project: 'my-api',
        environment: 'production',
        scope: ['DATABASE_URL'],
        ttlSeconds: 60,
        reason: `op ${i}`,
      });
      expect((await client.call('readSecrets', {}, { token })).secrets).toEqual({ DATABASE_URL: 'postgres://db' });
      await client.call('revokeLease', { id: lease.id });
    }
    // Still blocked on the server: none of the 30 answers waited for it.
    expect(notifySendProcesses(bus.address)).toBe(1);
    client.close();
  });

  it('logs a missing notification server once, and says so in status', async () => {
    const bare = await startBareBus();
    buses.push(bare);
    const { bella, opts, client } = await setup(bare);
    await setPolicy(bella, opts, '2s', '1s');
    // Leases that reach their warn point make the daemon try to notify, three times.
    for (let i = 0; i < 3; i++) await bella.ok(issueArgs('2s', `warned ${i}`), opts);
    await waitFor(
      async () => (await client.call('listLeases', { status: 'active' })).total === 0 || undefined,
      'warned leases to expire',
      15_000,
    );
    const status = await client.call('status', {});
    expect(status.notifications.available).toBe(false);
    expect(status.notifications.problem).toMatch(/notification/i);
    const log = fs.readFileSync(path.join(bella.home, 'daemon.log'), 'utf8');
    const problemLines = log.split('\n').filter((l) => l.includes(status.notifications.problem!.slice(0, 40)));
    expect(problemLines).toHaveLength(1);
    client.close();
  });

  it('catches up after a restart: true expiry times and one summary notification', async () => {
    const bus = await startNotificationBus();
    buses.push(bus);
    const { bella, opts } = await setup(bus);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const out = JSON.parse(await bella.ok([...issueArgs('2s', `short ${i}`), '--json'], opts)) as { lease: Lease };
      ids.push(out.lease.id);
    }
    await bella.ok(['daemon', 'stop'], opts);
    const before = bus.notifications().length;
    await new Promise((r) => setTimeout(r, 2500));
    await bella.ok(['daemon', 'start'], opts);
    const summary = await bus.waitFor((c) => c.summary.startsWith('While bella was stopped, 3 leases expired'), 10_000);
    expect(summary.body).toContain('my-api/production: 3 expired');
    for (const id of ids) {
      const issuedAt = (await audit(bella, opts, '--lease', id, '--event', 'LeaseIssued'))[0]!;
      const expiredEntry = (await audit(bella, opts, '--lease', id, '--event', 'LeaseExpired'))[0]!;
      const lease = JSON.parse(await bella.ok(['leases', 'show', id, '--json'], opts)).lease as Lease;
      expect(lease.status).toBe('expired');
      expect(expiredEntry.ts).toBe(lease.expiresAt);
      expect(Date.parse(expiredEntry.ts) - Date.parse(issuedAt.ts)).toBeLessThan(2500);
    }
    await new Promise((r) => setTimeout(r, 1000));
    expect(bus.notifications().length - before).toBe(1);
  });
});
