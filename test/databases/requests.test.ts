import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest } from '../../daemon/api';
import { cliPath, collect, waitFor, type CliResult } from '../helpers/cli';
import { spawn } from 'node:child_process';
import { addDatabase, roleGone, setUpDatabase, tearDown, type DbFixture } from './fixture';
import { freePort } from '../helpers/daemon';

// `bella request --db DB:ROLE` (issue 19, item 2): a teammate asks for a database login of her
// own; approval (or break-glass) creates it as `leases issue --db` does. The owner's real daemon
// and CLI, alice's real CLI with her own HOME joined over the loopback listener, and a private
// PostgreSQL cluster.

let f: DbFixture;
let aliceHome = '';

/** The real CLI on alice's machine: her own HOME and config dir, nothing of the owner's. */
function alice(args: string[]): Promise<CliResult> {
  const child = spawn(process.execPath, [cliPath, ...args], {
    env: { PATH: process.env.PATH, HOME: aliceHome, BELLA_CONFIG_DIR: path.join(aliceHome, 'config'), NO_COLOR: '1' },
    cwd: aliceHome,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return collect(child, undefined, 60_000);
}

async function pending(): Promise<AccessRequest> {
  let found: AccessRequest | undefined;
  await waitFor(async () => {
    const { requests } = await f.bella.json<{ requests: AccessRequest[] }>(['requests', 'list', '--status', 'pending']);
    found = requests[0];
    return found !== undefined;
  }, 'a pending request');
  return found!;
}

/** The URL alice's token reads, through her own CLI (the token plane over the listener). */
async function urlFor(token: string): Promise<string> {
  const res = await alice(['run', '--token', token, '--', 'sh', '-c', 'printf %s "$PG_PROD_URL"']);
  expect(res.code, res.stderr).toBe(0);
  return res.stdout;
}

function psql(url: string, sql: string): string {
  return execFileSync('psql', ['-X', '-At', url, '-c', sql], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

beforeAll(async () => {
  f = await setUpDatabase();
  await addDatabase(f);
  aliceHome = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-alice-'));
  await f.bella.ok(['listener', 'enable', '--address', `127.0.0.1:${await freePort()}`]);
  const code = (
    await f.bella.ok(['team', 'invite', 'alice', '--role', 'member', '--grant', 'my-api/prod:request'])
  ).trim();
  const joined = await alice(['team', 'join', code]);
  expect(joined.code, joined.stderr).toBe(0);
}, 90_000);

afterAll(async () => {
  await tearDown(f);
  if (aliceHome) fs.rmSync(aliceHome, { recursive: true, force: true });
}, 60_000);

describe('bella request --db', { timeout: 60_000 }, () => {
  it('refuses a database or role that does not exist when the request is made, saying what exists', async () => {
    const noDb = await alice(['request', '-p', 'my-api', '-e', 'prod', '--db', 'pg-nope:readonly', '--reason', 'x']);
    expect(noDb.code).toBe(1);
    expect(noDb.stderr).toMatch(/no database pg-nope/);
    const noRole = await alice(['request', '-p', 'my-api', '-e', 'prod', '--db', 'pg-prod:writer', '--reason', 'x']);
    expect(noRole.code).toBe(1);
    expect(noRole.stderr).toContain('pg-prod has no role writer; its roles: readonly');
    const malformed = await alice(['request', '-p', 'my-api', '-e', 'prod', '--db', 'pg-prod', '--reason', 'x']);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toContain('give --db as DATABASE:ROLE');
    const nothing = await alice(['request', '-p', 'my-api', '-e', 'prod', '--reason', 'x']);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('--scope <keys> is required (or --db DB:ROLE)');
    // Nothing was recorded by the refusals.
    expect((await f.bella.json<{ requests: AccessRequest[] }>(['requests', 'list'])).requests).toEqual([]);
  });

  it('approved by the owner: her waiting request prints a token whose PG_PROD_URL logs in with the role’s privileges', async () => {
    const waiting = alice([
      'request',
      '-p',
      'my-api',
      '-e',
      'prod',
      '--scope',
      'API_KEY',
      '--db',
      'pg-prod:readonly',
      '--ttl',
      '20m',
      '--reason',
      'INC-7 read orders',
    ]);
    const asked = await pending();
    expect(asked).toMatchObject({ requester: 'alice', scope: ['API_KEY'], db: 'pg-prod:readonly' });
    expect(await f.bella.ok(['requests', 'list'])).toContain('API_KEY,db pg-prod:readonly');

    await f.bella.ok(['requests', 'approve', asked.id, '--reason', 'on call']);
    const res = await waiting;
    expect(res.code, res.stderr).toBe(0);
    const token = res.stdout.trim();
    expect(token).toMatch(/^bax-/);

    const { lease } = await f.bella.json<{ lease: { id: string; scope: string[]; database: { user: string } } }>([
      'leases',
      'show',
      token.split('-')[1]!,
    ]);
    expect(lease.scope).toEqual(['API_KEY', 'PG_PROD_URL']);
    expect(f.roleExists(lease.database.user)).toBe(true);

    const url = await urlFor(token);
    expect(url).toContain(`${lease.database.user}:`);
    expect(psql(url, 'SELECT item FROM orders ORDER BY id').trim().split('\n')).toEqual(['book', 'lamp']);
    expect(psql(url, 'SELECT current_user').trim()).toBe(lease.database.user);

    // The audit tells the story: asked with a database login, approved, the role made.
    const audit = await f.bella.ok(['audit', 'list', '-o', 'json']);
    expect(audit).toContain('with a database login (pg-prod:readonly)');
    expect(audit).toContain(`login role ${lease.database.user} in pg-prod`);

    // Ended like any lease with --db: revoke drops the role.
    await f.bella.ok(['leases', 'revoke', lease.id]);
    expect(await roleGone(f, lease.database.user)).toBe(true);
  });

  it('break-glass with --db: the login role is made at once, and dropped when the lease ends', async () => {
    await f.bella.ok([
      'environments',
      'set-lease-policy',
      '--project',
      'my-api',
      '--environment',
      'prod',
      '--ttl',
      '2h',
      '--warn-before',
      '10m',
      '--break-glass-ttl',
      '30m',
    ]);
    const res = await alice([
      'request',
      '-p',
      'my-api',
      '-e',
      'prod',
      '--db',
      'pg-prod:readonly',
      '--reason',
      'prod down',
      '--break-glass',
    ]);
    expect(res.code, res.stderr).toBe(0);
    const token = res.stdout.trim();
    const leaseId = token.split('-')[1]!;
    const { lease } = await f.bella.json<{ lease: { scope: string[]; database: { user: string } } }>([
      'leases',
      'show',
      leaseId,
    ]);
    expect(lease.scope).toEqual(['PG_PROD_URL']);
    const url = await urlFor(token);
    expect(psql(url, 'SELECT count(*) FROM orders').trim()).toBe('2');
    expect(await f.bella.ok(['audit', 'list', '--event', 'PolicyBypassed'])).toContain(leaseId);

    await f.bella.ok(['leases', 'revoke', leaseId]);
    expect(await roleGone(f, lease.database.user)).toBe(true);
  });
});
