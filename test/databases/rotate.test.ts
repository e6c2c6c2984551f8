import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/cli';
import { addDatabase, setUpDatabase, tearDown, type DbFixture } from './fixture';

// Real rotation (issue 19, item 5) through the real CLI, a real daemon and a private PostgreSQL
// cluster: the old password is refused, the new one works, the history shows both, a rollback is
// refused, expire-all --rotate rotates again.

let f: DbFixture;
const env = ['-p', 'my-api', '-e', 'prod'];

beforeAll(async () => {
  f = await setUpDatabase();
  await addDatabase(f);
  f.pg.sql(`CREATE ROLE app LOGIN PASSWORD 'app-pw-1'; GRANT app_read TO app;`);
}, 60_000);

afterAll(async () => {
  await tearDown(f);
}, 60_000);

const value = async (key: string) => (await f.bella.ok(['secrets', 'get', key, ...env])).trim();

describe('bella secrets rotate', () => {
  it('sets a new password on the user and stores its URL: the old one is refused, the new one works', async () => {
    const oldUrl = f.pg.url('postgres', 'app', 'app-pw-1');
    expect(f.pg.psql(oldUrl, 'SELECT count(*) FROM orders').stdout.trim()).toBe('2');
    await f.bella.ok(['secrets', 'set', 'DATABASE_URL', oldUrl, ...env]);

    const res = await f.bella.json<{ key: string; database: string; user: string; version: number }>([
      'secrets',
      'rotate',
      'DATABASE_URL',
      ...env,
      '--db',
      'pg-prod',
      '--user',
      'app',
      '--json',
    ]);
    expect(res).toEqual({ key: 'DATABASE_URL', database: 'pg-prod', user: 'app', version: 2 });

    const newUrl = await value('DATABASE_URL');
    expect(newUrl).not.toBe(oldUrl);
    expect(new URL(newUrl).username).toBe('app');
    const refused = f.pg.psql(oldUrl, 'SELECT 1');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('password authentication failed');
    expect(f.pg.psql(newUrl, 'SELECT count(*) FROM orders').stdout.trim()).toBe('2');

    const history = await f.bella.json<{
      versions: Array<{ version: number; change: string; rotatedByDatabase?: string }>;
    }>(['secrets', 'history', 'DATABASE_URL', ...env, '--json']);
    expect(history.versions.map((v) => [v.version, v.change, v.rotatedByDatabase])).toEqual([
      [2, 'rotate', 'pg-prod'],
      [1, 'set', undefined],
    ]);
    const table = await f.bella.ok(['secrets', 'history', 'DATABASE_URL', ...env]);
    expect(table).toContain('rotate (pg-prod)');

    const rollback = await f.bella.run(['secrets', 'rollback', 'DATABASE_URL', '--to', '1', ...env]);
    expect(rollback.code).toBe(1);
    expect(rollback.stderr).toContain('is rotated by database pg-prod');
    expect(rollback.stderr).toContain('passwords the database no longer accepts');
    expect(rollback.stderr).toContain('bella secrets rotate DATABASE_URL --db pg-prod --user app');
    expect(await value('DATABASE_URL')).toBe(newUrl);

    const audit = await f.bella.ok(['audit', 'list', '--event', 'SecretRotated']);
    expect(audit).toContain('DATABASE_URL');
  });

  it('expire-all --rotate rotates every linked secret again and says which', async () => {
    const before = await value('DATABASE_URL');
    const out = await f.bella.ok(['leases', 'expire-all', ...env, '--rotate', '--yes']);
    expect(out).toContain('rotated DATABASE_URL: new password for app in pg-prod');
    const after = await value('DATABASE_URL');
    expect(after).not.toBe(before);
    expect(f.pg.psql(before, 'SELECT 1').code).not.toBe(0);
    expect(f.pg.psql(after, 'SELECT count(*) FROM orders').stdout.trim()).toBe('2');
    const history = await f.bella.json<{ versions: Array<{ version: number; change: string }> }>([
      'secrets',
      'history',
      'DATABASE_URL',
      ...env,
      '--json',
    ]);
    expect(history.versions.map((v) => v.change)).toEqual(['rotate', 'rotate', 'set']);
  });

  it('reports a failed rotation and still ends the leases', async () => {
    f.pg.sql(`CREATE ROLE gone LOGIN PASSWORD 'gone-pw';`);
    await f.bella.ok(['secrets', 'rotate', 'OTHER_URL', ...env, '--db', 'pg-prod', '--user', 'gone']);
    f.pg.sql('DROP ROLE gone;');
    const { token } = await f.issue();
    const res = await f.bella.json<{
      revoked: number;
      rotated: Array<{ key: string }>;
      rotationFailed: Array<{ key: string; error: string }>;
    }>(['leases', 'expire-all', ...env, '--rotate', '--yes', '--json']);
    expect(res.revoked).toBe(1);
    expect(res.rotated.map((r) => r.key)).toEqual(['DATABASE_URL']);
    expect(res.rotationFailed.map((r) => r.key)).toEqual(['OTHER_URL']);
    expect(res.rotationFailed[0]!.error).toContain('no role gone');
    const read = await f.bella.run(['run', '--token', token, '--', 'true']);
    expect(read.code).not.toBe(0);
  });

  it('refuses an unknown database, an unknown user, a lease role, bella’s admin and a NOLOGIN group', async () => {
    const rotate = (db: string, user: string) =>
      f.bella.run(['secrets', 'rotate', 'DATABASE_URL', ...env, '--db', db, '--user', user]);
    const unknownDb = await rotate('pg-nope', 'app');
    expect(unknownDb.code).toBe(1);
    expect(unknownDb.stderr).toContain('no database pg-nope; the databases: pg-prod');

    const unknownUser = await rotate('pg-prod', 'nobody');
    expect(unknownUser.code).toBe(1);
    expect(unknownUser.stderr).toContain('no role nobody in');

    const { user } = await f.issue();
    const lease = await rotate('pg-prod', user);
    expect(lease.code).toBe(1);
    expect(lease.stderr).toContain('is a login role bella made for a lease');

    const admin = await rotate('pg-prod', 'bella_owner');
    expect(admin.code).toBe(1);
    expect(admin.stderr).toContain('is the admin bella connects to pg-prod as');

    const group = await rotate('pg-prod', 'app_read');
    expect(group.code).toBe(1);
    expect(group.stderr).toContain('cannot log in (NOLOGIN)');

    const missing = await f.bella.run(['secrets', 'rotate', 'DATABASE_URL', ...env, '--db', 'pg-prod']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('--user');
    // Nothing was written by a refusal: the live value is still the last rotation's.
    expect(f.pg.psql(await value('DATABASE_URL'), 'SELECT 1').code).toBe(0);
  });

  it('an ALTER ROLE that fails leaves the new value pending; after kill -9 and restart bella sets it and confirms', async () => {
    // A CREATEROLE admin may not change a superuser's password: the database refuses after the commit.
    f.pg.sql(`CREATE ROLE boss LOGIN SUPERUSER PASSWORD 'boss-pw';`);
    const oldUrl = f.pg.url('postgres', 'boss', 'boss-pw');
    await f.bella.ok(['secrets', 'set', 'BOSS_URL', oldUrl, ...env]);
    const res = await f.bella.run(['secrets', 'rotate', 'BOSS_URL', ...env, '--db', 'pg-prod', '--user', 'boss']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('pg-prod did not take the new password of boss');
    expect(res.stderr).toContain('BOSS_URL holds it as version 2, pending');
    expect(res.stderr).toContain('the old password (version 1');
    // Nothing lost: the old password still works and is the previous version.
    expect(f.pg.psql(oldUrl, 'SELECT 1').code).toBe(0);
    type History = { versions: Array<{ version: number; change: string; pending?: boolean; value?: string }> };
    const history = () => f.bella.json<History>(['secrets', 'history', 'BOSS_URL', ...env, '--show-values', '--json']);
    const pending = await history();
    expect(pending.versions.map((v) => [v.version, v.change, v.pending ?? false])).toEqual([
      [2, 'rotate', true],
      [1, 'set', false],
    ]);
    expect(pending.versions[1]!.value).toBe(oldUrl);
    expect(await f.bella.ok(['secrets', 'history', 'BOSS_URL', ...env])).toContain('rotate (pg-prod, pending)');

    f.pg.sql('ALTER ROLE boss NOSUPERUSER;');
    await f.bella.killDaemon();
    // Any command starts the daemon again; at start it sets the pending password and confirms.
    await waitFor(async () => {
      const latest = (await history().catch(() => undefined))?.versions[0];
      return latest !== undefined && latest.pending === undefined;
    }, 'the pending rotation to be confirmed');
    const newUrl = await value('BOSS_URL');
    expect(newUrl).toBe(pending.versions[0]!.value);
    expect(f.pg.psql(newUrl, 'SELECT 1').code).toBe(0);
    expect(f.pg.psql(oldUrl, 'SELECT 1').code).not.toBe(0);
    const audit = await f.bella.ok(['audit', 'list', '--event', 'SecretRotated']);
    expect(audit).toContain('finished at start');
  });
});
