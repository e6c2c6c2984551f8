import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../helpers/channels';
import { collect, waitFor } from '../helpers/cli';
import { addDatabase, roleGone, setUpDatabase, tearDown, type DbFixture } from './fixture';

// The end is real even when things fail: kill -9 of the daemon in both crash windows, the daemon
// down across an expiry, Postgres down at expiry, and the owner giving up with --force. Postgres
// is made to hang with SIGSTOP (every process of the private cluster), so the daemon is caught
// between its commit and its SQL without any hook in bella.

// Drop retries at most 1 s apart (the default backs off to a minute).
process.env.BELLA_DB_RETRY_MAX_MS = '1000';

let f: DbFixture;
let receiver: Receiver;

type Listed = {
  databases: Array<{
    credentials: Array<{ user: string; leaseId: string; phase: string; attempts: number; lastError: string | null }>;
  }>;
};

/**
 * `check` inside a poll right after a kill -9: a CLI that finds the daemon still starting (another
 * command already restarted it) may give up once; the poll asks again.
 */
function orRetry<T>(check: () => Promise<T>): () => Promise<T | undefined> {
  return () => check().catch(() => undefined);
}

async function credentials(): Promise<Listed['databases'][number]['credentials']> {
  return (await f.bella.json<Listed>(['databases', 'list'])).databases[0]!.credentials;
}

async function leaseStatus(id: string): Promise<{ status: string; endReason: string | null }> {
  return (await f.bella.json<{ lease: { status: string; endReason: string | null } }>(['leases', 'show', id])).lease;
}

beforeAll(async () => {
  f = await setUpDatabase();
  await addDatabase(f);
  receiver = await startReceiver();
  await f.bella.ok([
    'notifications',
    'channels',
    'add',
    'webhook',
    '--url',
    `${receiver.url}/hook`,
    '--allow-private',
    '--insecure-http',
  ]);
}, 60_000);

afterAll(async () => {
  await receiver?.close();
  await tearDown(f);
}, 60_000);

describe('database login roles when things fail', () => {
  it('kill -9 between the commit and CREATE ROLE: after restart the lease is revoked and no role is left', async () => {
    f.pg.freeze();
    let issuing: ChildProcess | undefined;
    try {
      issuing = f.bella.spawn([
        'leases',
        'issue',
        '-p',
        'my-api',
        '-e',
        'prod',
        '--db',
        'pg-prod:readonly',
        '--reason',
        'crash 1',
      ]);
      const creating = await waitFor(
        async () => (await credentials()).find((c) => c.phase === 'creating'),
        'the commit',
      );
      await f.bella.killDaemon();
      // The cut issue is not made again (it may have been done): one lease, the daemon not restarted by it.
      const cut = await collect(issuing);
      expect(cut.code).toBe(1);
      expect(cut.stderr).toContain('stopped before it answered');
      expect(await f.bella.answering()).toBe(false);
      f.pg.thaw();
      // Any command starts the daemon again; the unconfirmed login's lease is revoked at start.
      await waitFor(
        orRetry(async () => (await leaseStatus(creating.leaseId)).status === 'revoked'),
        'the lease to be revoked',
      );
      expect((await leaseStatus(creating.leaseId)).endReason).toBe(
        'bella stopped before its database login role was confirmed',
      );
      await waitFor(async () => (await credentials()).length === 0, 'the drop job to finish');
      expect(f.roleExists(creating.user)).toBe(false);
      const leases = await f.bella.json<{ leases: Array<{ reason: string }> }>(['leases', 'list', '--all']);
      expect(leases.leases.filter((l) => l.reason === 'crash 1')).toHaveLength(1);
    } finally {
      f.pg.thaw();
      issuing?.kill('SIGKILL');
    }
  });

  it('kill -9 between the end and DROP ROLE: the role is dropped after restart', async () => {
    const { leaseId, user, token } = await f.issue();
    const url = await f.urlOf(token);
    expect(f.pg.psql(url, 'SELECT 1').code).toBe(0);
    f.pg.freeze();
    let revoking: ChildProcess | undefined;
    try {
      revoking = f.bella.spawn(['leases', 'revoke', leaseId]);
      await waitFor(
        async () => (await credentials()).some((c) => c.user === user && c.phase === 'dropping'),
        'the end to commit',
      );
      await f.bella.killDaemon();
      // The cut revoke is not made again: no daemon runs to drop the role before the test looks.
      expect((await collect(revoking)).stderr).toContain('stopped before it answered');
      expect(await f.bella.answering()).toBe(false);
      f.pg.thaw();
      expect(f.roleExists(user)).toBe(true);
      // Any command starts the daemon again.
      await waitFor(orRetry(credentials), 'the daemon to answer again');
      await roleGone(f, user);
      await waitFor(async () => (await credentials()).length === 0, 'the drop job to finish');
      expect(f.pg.psql(url, 'SELECT 1').code).not.toBe(0);
    } finally {
      f.pg.thaw();
      revoking?.kill('SIGKILL');
    }
  });

  it('daemon down across an expiry: VALID UNTIL refuses the login meanwhile, the role is dropped after restart', async () => {
    const { token, user } = await f.issue(['--ttl', '3s']);
    const url = await f.urlOf(token);
    expect(f.pg.psql(url, 'SELECT 1').code).toBe(0);
    await f.bella.ok(['daemon', 'stop']);
    // Postgres itself refuses once VALID UNTIL (expiry + a few seconds of grace) passed: the role is still there.
    await waitFor(() => f.pg.psql(url, 'SELECT 1').code !== 0, 'VALID UNTIL to refuse the login', 30_000);
    expect(f.pg.psql(url, 'SELECT 1').stderr).toContain('password authentication failed');
    expect(f.roleExists(user)).toBe(true);
    await f.bella.ok(['daemon', 'start']);
    await roleGone(f, user);
  });

  it('Postgres down at expiry: the failure is shown (list, status, audit, channel), retried, dropped once it is back', async () => {
    const { user, leaseId } = await f.issue(['--ttl', '3s']);
    f.pg.stop();
    try {
      const failing = await waitFor(
        async () => (await credentials()).find((c) => c.user === user && c.lastError),
        'the drop to fail',
        30_000,
      );
      expect(failing.lastError).toMatch(/ECONNREFUSED|connect/);
      const text = await f.bella.ok(['databases', 'list']);
      expect(text).toContain(`not dropped yet: ${user} (lease ${leaseId})`);
      const status = await f.bella.json<{ problems: string[] }>(['daemon', 'status']);
      expect(status.problems.some((p) => p.includes(`database login ${user}`))).toBe(true);
      const audit = await f.bella.json<{ entries: Array<{ event: string }> }>(['audit', 'list', '--lease', leaseId]);
      expect(audit.entries.map((e) => e.event)).toContain('CredentialRevokeFailed');
      const hook = await waitFor(
        // Earlier tests' failed drops (a frozen server) send theirs too: this lease's event is looked for.
        () => receiver.received.find((r) => r.body.includes('CredentialRevokeFailed') && r.body.includes(leaseId)),
        'the channel event',
        20_000,
      );
      const body = JSON.parse(hook.body) as { type: string; data: Record<string, unknown> };
      expect(body.type).toBe('CredentialRevokeFailed');
      expect(body.data).toMatchObject({
        project: 'my-api',
        environment: 'prod',
        leaseIds: [leaseId],
        database: 'pg-prod',
        user,
      });
      expect(hook.body).not.toContain('owner-pw-1');
      // A second attempt has failed too: it is retried.
      await waitFor(
        async () => ((await credentials()).find((c) => c.user === user)?.attempts ?? 0) >= 2,
        'a retry',
        30_000,
      );
    } finally {
      f.pg.start();
    }
    await roleGone(f, user, 30_000);
    await waitFor(async () => (await credentials()).length === 0, 'the job to finish', 30_000);
  });

  it('Postgres down at issue: the lease is revoked at once and the caller told why', async () => {
    f.pg.stop();
    let res;
    try {
      res = await f.bella.run([
        'leases',
        'issue',
        '-p',
        'my-api',
        '-e',
        'prod',
        '--db',
        'pg-prod:readonly',
        '--reason',
        'x',
      ]);
    } finally {
      f.pg.start();
    }
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(
      /lease ([a-z0-9]{16}) was revoked: could not create its login role in pg-prod: .*ECONNREFUSED/,
    );
    const id = /lease ([a-z0-9]{16})/.exec(res.stderr)![1]!;
    expect((await leaseStatus(id)).status).toBe('revoked');
    await waitFor(async () => (await credentials()).length === 0, 'the (empty) drop to finish', 30_000);
  });

  it('revoke --force gives up a role it cannot drop, with an audit entry', async () => {
    const { user, leaseId } = await f.issue();
    f.pg.stop();
    let out: string;
    try {
      out = await f.bella.ok(['leases', 'revoke', leaseId, '--force']);
    } finally {
      f.pg.start();
    }
    expect(out).toContain(`gave up dropping login role ${user}`);
    expect(await credentials()).toEqual([]);
    const audit = await f.bella.json<{ entries: Array<{ event: string; message?: string }> }>([
      'audit',
      'list',
      '--lease',
      leaseId,
      '--event',
      'CredentialRevokeAbandoned',
    ]);
    expect(audit.entries).toHaveLength(1);
    expect(audit.entries[0]!.message).toContain(`DROP ROLE ${user}`);
    // Given up means given up: bella leaves the role; its VALID UNTIL still bounds it.
    expect(f.roleExists(user)).toBe(true);
    f.pg.sql(`DROP ROLE ${user}`);
  });
});
