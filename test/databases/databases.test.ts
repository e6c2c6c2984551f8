import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesUnder, waitFor } from '../helpers/cli';
import fs from 'node:fs';
import { addDatabase, roleGone, setUpDatabase, tearDown, type DbFixture } from './fixture';

// Databases and login roles per lease, through the real CLI, a real daemon and a private
// PostgreSQL 15 cluster on a free loopback port.

let f: DbFixture;

beforeAll(async () => {
  f = await setUpDatabase();
}, 60_000);

afterAll(async () => {
  await tearDown(f);
}, 60_000);

describe('bella databases', () => {
  it('checks the URL at once: a wrong password, an admin that may not create roles, then one that may', async () => {
    const wrong = await f.bella.run([
      'databases',
      'add',
      'pg-prod',
      '-p',
      'my-api',
      '-e',
      'prod',
      '--url',
      f.pg.url('postgres', 'bella_owner', 'not-the-password'),
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/cannot connect with --url \(127\.0\.0\.1:\d+\): password authentication failed/);
    expect(wrong.stderr).not.toContain('not-the-password');

    const weak = await f.bella.run([
      'databases',
      'add',
      'pg-prod',
      '-p',
      'my-api',
      '-e',
      'prod',
      '--url',
      f.pg.url('postgres', 'app_user', 'x'),
    ]);
    expect(weak.code).toBe(1);
    expect(weak.stderr).toContain('app_user may not create roles');

    const bad = await f.bella.run([
      'databases',
      'add',
      'pg-prod',
      '-p',
      'my-api',
      '-e',
      'prod',
      '--url',
      'mysql://a@b/c',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('postgres://ADMIN:PASSWORD@HOST:PORT/DBNAME');

    // `--url -` reads it from stdin (out of shell history and ps).
    const out = await f.bella.ok(['databases', 'add', 'pg-prod', '-p', 'my-api', '-e', 'prod', '--url', '-'], {
      input: `${f.adminUrl}\n`,
    });
    expect(out).toContain('added database pg-prod');
    expect(out).toContain('(CREATEROLE)');
    const again = await f.bella.run(['databases', 'add', 'pg-prod', '-p', 'my-api', '-e', 'prod', '--url', f.adminUrl]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('a database named pg-prod exists');
  });

  it('never shows the URL again: not in the list, not in the data directory', async () => {
    const listed = await f.bella.json<{ databases: Array<Record<string, unknown>> }>(['databases', 'list']);
    expect(listed.databases).toHaveLength(1);
    expect(listed.databases[0]).toMatchObject({
      name: 'pg-prod',
      project: 'my-api',
      environment: 'prod',
      adminUser: 'bella_owner',
      key: 'PG_PROD_URL',
      target: `127.0.0.1:${f.pg.port}/postgres`,
    });
    expect(JSON.stringify(listed)).not.toContain('owner-pw-1');
    const text = await f.bella.ok(['databases', 'list']);
    expect(text).toContain('pg-prod');
    expect(text).not.toContain('owner-pw-1');
    for (const file of filesUnder(f.bella.home))
      if (fs.statSync(file).isFile()) expect(fs.readFileSync(file).includes('owner-pw-1')).toBe(false);
  });

  it('adds roles only of existing NOLOGIN groups', async () => {
    const missing = await f.bella.run([
      'databases',
      'roles',
      'add',
      'pg-prod',
      'readonly',
      '--member-of',
      'app_read,nope',
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no role nope');
    const login = await f.bella.run(['databases', 'roles', 'add', 'pg-prod', 'readonly', '--member-of', 'app_user']);
    expect(login.code).toBe(1);
    expect(login.stderr).toContain('app_user can log in');
    await f.bella.ok(['databases', 'roles', 'add', 'pg-prod', 'readonly', '--member-of', 'app_read']);
    await f.bella.ok(['databases', 'roles', 'add', 'pg-prod', 'spare', '--member-of', 'app_read']);
    const roles = await f.bella.json<{ roles: Array<{ role: string; memberOf: string[] }> }>([
      'databases',
      'roles',
      'list',
    ]);
    expect(roles.roles).toEqual([
      { database: 'pg-prod', role: 'readonly', memberOf: ['app_read'] },
      { database: 'pg-prod', role: 'spare', memberOf: ['app_read'] },
    ]);
    await f.bella.ok(['databases', 'roles', 'remove', 'pg-prod', 'spare']);
    const gone = await f.bella.run([
      'leases',
      'issue',
      '-p',
      'my-api',
      '-e',
      'prod',
      '--db',
      'pg-prod:spare',
      '--reason',
      'x',
    ]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('pg-prod has no role spare; its roles: readonly');
  });

  it("gives a lease PG_PROD_URL: it logs in with psql and has the group's privileges, no more", async () => {
    const { token, user, leaseId } = await f.issue(['--scope', 'API_KEY']);
    expect(user).toMatch(/^bella_[a-z0-9]{16}$/);
    expect(f.roleExists(user)).toBe(true);
    const url = await f.urlOf(token);
    expect(url).toMatch(new RegExp(`^postgres://${user}:[A-Za-z0-9_-]{32}@127\\.0\\.0\\.1:${f.pg.port}/postgres$`));
    const read = f.pg.psql(url, 'SELECT current_user, count(*) FROM orders GROUP BY 1');
    expect(read.stderr).toBe('');
    expect(read.stdout.trim()).toBe(`${user}|2`);
    const write = f.pg.psql(url, "INSERT INTO orders VALUES (3, 'x')");
    expect(write.code).not.toBe(0);
    expect(write.stderr).toContain('permission denied for table orders');
    // VALID UNTIL follows the lease (plus a small grace); the password is stored as a SCRAM verifier.
    const row = f.pg.sql(
      `SELECT rolcanlogin, rolvaliduntil IS NOT NULL, rolsuper FROM pg_roles WHERE rolname = '${user}'`,
    );
    expect(row.trim()).toBe('t|t|f');
    // The password is on disk only sealed; `leases show` names the role.
    const password = new URL(url).password;
    for (const file of filesUnder(f.bella.home))
      if (fs.statSync(file).isFile()) expect(fs.readFileSync(file).includes(password)).toBe(false);
    expect(await f.bella.ok(['leases', 'show', leaseId])).toContain(
      `PG_PROD_URL: login role ${user} in pg-prod (readonly)`,
    );
    // The lease's other keys come along as usual.
    const both = await f.bella.ok([
      'run',
      '--token',
      token,
      '--',
      'sh',
      '-c',
      'printf "%s %s" "$API_KEY" "${PG_PROD_URL%%:*}"',
    ]);
    expect(both).toBe('k-123 postgres');
    await f.bella.ok(['leases', 'revoke', leaseId]);
  });

  it("escapes group names with pg's own helpers: a group named with quotes and a semicolon works as a name", async () => {
    const group = `we"ird'; DROP TABLE orders; --`;
    f.pg.sql(
      `CREATE ROLE "we""ird'; DROP TABLE orders; --" NOLOGIN; GRANT SELECT ON orders TO "we""ird'; DROP TABLE orders; --";`,
    );
    await f.bella.ok(['databases', 'roles', 'add', 'pg-prod', 'weird', '--member-of', group]);
    const res = await f.bella.json<{ token: string; lease: { id: string; database: { user: string } } }>([
      'leases',
      'issue',
      '-p',
      'my-api',
      '-e',
      'prod',
      '--db',
      'pg-prod:weird',
      '--reason',
      'quotes',
    ]);
    const url = await f.urlOf(res.token);
    expect(f.pg.psql(url, 'SELECT count(*) FROM orders').stdout.trim()).toBe('2');
    const member = f.pg.sql(
      `SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = '${res.lease.database.user}'`,
    );
    expect(member.trim()).toBe(group);
    await f.bella.ok(['leases', 'revoke', res.lease.id]);
    await f.bella.ok(['databases', 'roles', 'remove', 'pg-prod', 'weird']);
  });

  it('renew moves VALID UNTIL', async () => {
    const { leaseId, user } = await f.issue(['--ttl', '10m']);
    const before = f.pg.sql(`SELECT extract(epoch FROM rolvaliduntil)::bigint FROM pg_roles WHERE rolname = '${user}'`);
    await f.bella.ok(['leases', 'renew', leaseId, '--ttl', '2h']);
    const after = f.pg.sql(`SELECT extract(epoch FROM rolvaliduntil)::bigint FROM pg_roles WHERE rolname = '${user}'`);
    expect(Number(after) - Number(before)).toBeGreaterThan(3600);
    await f.bella.ok(['leases', 'revoke', leaseId]);
  });

  it('revoke ends an open session, refuses new logins and drops the role', async () => {
    const { token, leaseId, user } = await f.issue();
    const url = await f.urlOf(token);
    const session = f.openSession(url);
    let stderr = '';
    session.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => session.once('exit', (code) => resolve(code)));
    await waitFor(
      () => f.pg.sql(`SELECT count(*) FROM pg_stat_activity WHERE usename = '${user}'`).trim() === '1',
      'the session to be open',
    );
    const out = await f.bella.ok(['leases', 'revoke', leaseId]);
    expect(out).toContain(`login role ${user} dropped (its sessions ended)`);
    expect(await exited).not.toBe(0);
    expect(stderr).toMatch(/terminat/);
    expect(f.roleExists(user)).toBe(false);
    const again = f.pg.psql(url, 'SELECT 1');
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/password authentication failed|role .* does not exist/);
    const audit = await f.bella.json<{ entries: Array<{ event: string }> }>(['audit', 'list', '--lease', leaseId]);
    expect(audit.entries.map((e) => e.event)).toEqual(
      expect.arrayContaining(['CredentialCreated', 'LeaseRevoked', 'CredentialRevoked']),
    );
  });

  it("a 3-second lease's role is dropped at its expiry", async () => {
    const { user, leaseId } = await f.issue(['--ttl', '3s']);
    expect(f.roleExists(user)).toBe(true);
    await roleGone(f, user);
    const lease = await f.bella.json<{ lease: { status: string } }>(['leases', 'show', leaseId]);
    expect(lease.lease.status).toBe('expired');
  });

  it('bella run --db makes a role for the run and drops it at exit', async () => {
    const out = await f.bella.ok([
      'run',
      '-p',
      'my-api',
      '-e',
      'prod',
      '--db',
      'pg-prod:readonly',
      '--',
      'sh',
      '-c',
      'psql -X -At "$PG_PROD_URL" -c "SELECT current_user"',
    ]);
    const user = out.trim();
    expect(user).toMatch(/^bella_[a-z0-9]{16}$/);
    expect(f.roleExists(user)).toBe(false);
  });

  it('bella run --db killed with SIGKILL: its watchdog revokes the lease and the role is dropped', async () => {
    const run = f.bella.spawn([
      'run',
      '-p',
      'my-api',
      '-e',
      'prod',
      '--db',
      'pg-prod:readonly',
      '--',
      'sh',
      '-c',
      'echo "$PG_PROD_URL"; exec sleep 600',
    ]);
    try {
      let stdout = '';
      run.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      // The command runs (under its watchdog) once it has printed its URL.
      const user = (
        await waitFor(() => /^postgres:\/\/(bella_[a-z0-9]{16}):/m.exec(stdout), 'the command to start')
      )[1]!;
      expect(f.roleExists(user)).toBe(true);
      run.kill('SIGKILL');
      // The watchdog stops the command first (up to 10 s), then revokes with the same bella.
      await roleGone(f, user, 50_000);
    } finally {
      run.kill('SIGKILL');
    }
  }, 60_000);

  it('expire-all drops the roles of its leases; the sealed admin URL survives the new data key', async () => {
    const { leaseId, user } = await f.issue();
    await f.bella.ok(['leases', 'expire-all', '-p', 'my-api', '-e', 'prod', '--yes']);
    await roleGone(f, user);
    expect((await f.bella.json<{ lease: { status: string } }>(['leases', 'show', leaseId])).lease.status).toBe(
      'revoked',
    );
    const next = await f.issue();
    expect(f.pg.psql(await f.urlOf(next.token), 'SELECT count(*) FROM orders').stdout.trim()).toBe('2');
    await f.bella.ok(['leases', 'revoke', next.leaseId]);
  });

  it('refuses deleting an environment that holds a database, even with --force', async () => {
    const res = await f.bella.run(['environments', 'delete', '-p', 'my-api', '-e', 'prod', '--force']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('my-api/prod holds database pg-prod: remove it first');
  });

  it('refuses removing a database while roles of it are not dropped, then removes it', async () => {
    const { leaseId } = await f.issue();
    const busy = await f.bella.run(['databases', 'remove', 'pg-prod']);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain('revoke their leases first');
    await f.bella.ok(['leases', 'revoke', leaseId]);
    await f.bella.ok(['databases', 'remove', 'pg-prod']);
    expect((await f.bella.json<{ databases: unknown[] }>(['databases', 'list'])).databases).toEqual([]);
    await addDatabase(f);
  });
});
