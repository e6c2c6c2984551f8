import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonClient } from '../../daemon/client';
import {
  sleep,
  startIn,
  tempPlace,
  tokenRead,
  type DaemonHandle,
  type DaemonPlace,
  type RawResponse,
} from '../helpers/daemon';
import { fillDisk, mountTmpfs } from './disk';
import { toDotenv } from '../../daemon/cli/secret-formats';

/** Another OS user, made for this run only (a name of its own) and removed in afterAll, even after a failure. */
const OTHER_USER = `bella-t${randomBytes(4).toString('hex')}`;
let otherUserMade = false;
const sentinel = () => `sentinel-${randomBytes(12).toString('hex')}`;

function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) {
    throw new Error(`${what} needs root (CI runs as root): run the reliability suite as root, it is not skipped`);
  }
}

/** Every file under `dir`, recursively. */
function allFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? allFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

const read = (socket: string, token: string, keys?: string): Promise<RawResponse> => tokenRead(socket, token, { keys });

async function issue(client: DaemonClient, environment: string, scope: string[], ttlSeconds = 3600) {
  const out = await client.call('issueLease', { project: 'app', environment, scope, ttlSeconds, reason: 'security' });
  return { id: out.lease.id, token: out.token };
}

/** Refusals the trail accounts for: one per Denied entry, or its count when it aggregates many. */
async function deniedCount(client: DaemonClient): Promise<number> {
  const { entries } = await client.call('listAudit', { event: 'SecretsRead', outcome: 'Denied', limit: 1000 });
  return entries.reduce((n, e) => n + (e.count ?? 1), 0);
}

describe('security matrix', () => {
  // Made in beforeAll, not while collecting: a run that filters these tests out makes nothing.
  let place: DaemonPlace;
  const values = { prod: [sentinel(), sentinel(), sentinel(), sentinel()], staging: sentinel(), rot: sentinel() };
  const tokens: string[] = [];
  let daemon: DaemonHandle;

  beforeAll(async () => {
    place = tempPlace('bella-sec', { logInHome: true });
    // Parents others may traverse: only the daemon's own modes (0700 dir, 0600 socket) keep them out.
    fs.chmodSync(place.root, 0o755);
    fs.chmodSync(path.dirname(place.socket), 0o755);
    daemon = await startIn(place);
    const c = daemon.client;
    await c.call('createProject', { slug: 'app', name: 'App' });
    for (const environment of ['prod', 'staging', 'rot']) {
      await c.call('createEnvironment', { project: 'app', slug: environment, name: environment });
    }
    const [a, b, s, p] = values.prod;
    await c.call('importSecrets', {
      project: 'app',
      environment: 'prod',
      dotenv: toDotenv({ API_KEY: a!, DB_URL: b!, STRIPE_KEY: s!, PROD_ONLY: p! }),
    });
    await c.call('importSecrets', {
      project: 'app',
      environment: 'staging',
      dotenv: toDotenv({ API_KEY: values.staging }),
    });
    await c.call('importSecrets', { project: 'app', environment: 'rot', dotenv: toDotenv({ API_KEY: values.rot }) });
  });
  afterAll(async () => {
    await daemon?.stop();
    place?.cleanup();
    if (otherUserMade) {
      execFileSync('userdel', ['-r', OTHER_USER], { stdio: 'ignore' });
      expect(spawnSync('id', ['-u', OTHER_USER]).status, `${OTHER_USER} is left behind`).not.toBe(0);
    }
  });

  it('refuses every token that must not pass, audits each refusal as Denied, and leaks no value', async () => {
    const { client, socket } = daemon;
    const scoped = await issue(client, 'prod', ['API_KEY']);
    const other = await issue(client, 'prod', ['API_KEY']);
    const staging = await issue(client, 'staging', ['*']);
    const revoked = await issue(client, 'prod', ['API_KEY']);
    const expired = await issue(client, 'prod', ['API_KEY'], 1);
    const rotated = await issue(client, 'rot', ['API_KEY']);
    tokens.push(scoped.token, other.token, staging.token, revoked.token, expired.token, rotated.token);

    // Valid tokens work (so the refusals below are about the token, not a broken daemon).
    expect((await read(socket, scoped.token)).status).toBe(200);
    expect((await read(socket, rotated.token)).status).toBe(200);
    const stagingRead = await read(socket, staging.token);
    expect(stagingRead.status).toBe(200);
    for (const v of values.prod) expect(stagingRead.body).not.toContain(v);

    await client.call('revokeLease', { id: revoked.id });
    await client.call('expireAll', { project: 'app', environment: 'rot' });
    await sleep(Math.max(0, 1100));

    // A token minted by another bella installation (another data dir, another key).
    const foreignPlace = tempPlace('bella-sec-foreign');
    const foreign = await startIn(foreignPlace);
    await foreign.client.call('createProject', { slug: 'app', name: 'App' });
    await foreign.client.call('createEnvironment', { project: 'app', slug: 'prod', name: 'prod' });
    await foreign.client.call('importSecrets', { project: 'app', environment: 'prod', dotenv: 'API_KEY=x\n' });
    const foreignToken = (await issue(foreign.client, 'prod', ['API_KEY'])).token;
    await foreign.stop();
    foreignPlace.cleanup();

    const [, , otherSecret] = /^bax-([a-z0-9]{16})-(.+)$/.exec(other.token)!;
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_-';
    const tampered = [...scoped.token].map((ch, i) => {
      const replacement = alphabet[(alphabet.indexOf(ch) + 1 + (i % 7)) % alphabet.length] ?? 'x';
      return scoped.token.slice(0, i) + (replacement === ch ? 'z' : replacement) + scoped.token.slice(i + 1);
    });
    const truncated = Array.from({ length: scoped.token.length }, (_, n) => scoped.token.slice(0, n));
    const attempts: Array<{ kind: string; token: string; keys?: string; codes: string[] }> = [
      { kind: 'another environment', token: staging.token, keys: 'PROD_ONLY', codes: ['not_found'] },
      { kind: 'another installation', token: foreignToken, codes: ['unauthenticated'] },
      { kind: 'outside scope', token: scoped.token, keys: 'DB_URL', codes: ['permission_denied'] },
      { kind: 'outside scope', token: scoped.token, keys: 'API_KEY,STRIPE_KEY', codes: ['permission_denied'] },
      { kind: 'revoked', token: revoked.token, codes: ['token_revoked'] },
      { kind: 'expired', token: expired.token, codes: ['token_expired'] },
      { kind: 'expired-all', token: rotated.token, codes: ['token_revoked'] },
      { kind: "another lease's secret", token: `bax-${scoped.id}-${otherSecret}`, codes: ['unauthenticated'] },
      ...tampered.map((token) => ({ kind: 'tampered', token, codes: ['unauthenticated'] })),
      ...truncated.map((token) => ({ kind: 'truncated', token, codes: ['unauthenticated'] })),
    ];
    const deniedBefore = await deniedCount(client);
    const accepted: string[] = [];
    for (const a of attempts) {
      const res = await read(socket, a.token, a.keys);
      const code = (JSON.parse(res.body) as { error?: { code?: string } }).error?.code ?? '';
      if (res.status === 200 || !a.codes.includes(code)) accepted.push(`${a.kind}: ${res.status} ${code}`);
      for (const v of [...values.prod, values.staging, values.rot]) expect(res.body).not.toContain(v);
    }
    expect(accepted).toEqual([]);
    // Past a few per window, refusals are counted into one aggregated entry, written when the
    // window closes or the daemon stops: every refusal is accounted for, the trail stays small.
    await daemon.stop();
    daemon = await startIn(place);
    const denied = (await deniedCount(daemon.client)) - deniedBefore;
    expect(denied).toBe(attempts.length);
    console.log(
      `security matrix: ${attempts.length} hostile token reads (${tampered.length} tampered, ${truncated.length} truncated), 100% refused, ${denied} accounted for as Denied`,
    );

    // After expire-all a new lease works again: the rotation re-encrypted the values, it did not lose them.
    const fresh = await issue(daemon.client, 'rot', ['API_KEY']);
    tokens.push(fresh.token);
    expect(JSON.parse((await read(daemon.socket, fresh.token)).body).secrets.API_KEY).toBe(values.rot);
    // Admin reads go through the same audited path; their values must not reach any file either.
    await daemon.client.call('listSecrets', { project: 'app', environment: 'prod', reveal: true });
  }, 120_000);

  it('keeps every file of the data dir owner-only and free of secret values and tokens', async () => {
    expect(tokens.length).toBeGreaterThan(0);
    await daemon.stop();
    const files = allFiles(place.home);
    expect(files.map((f) => path.basename(f))).toEqual(
      expect.arrayContaining(['state.snapshot', 'state.journal', '000000000001.log', 'daemon.log']),
    );
    const needles = [
      ...values.prod,
      values.staging,
      values.rot,
      ...tokens,
      ...tokens.map((t) => /^bax-[a-z0-9]{16}-(.+)$/.exec(t)![1]!),
    ];
    const leaks: string[] = [];
    for (const file of files) {
      const text = fs.readFileSync(file, 'latin1');
      for (const needle of needles)
        if (text.includes(needle)) leaks.push(`${path.relative(place.home, file)}: ${needle}`);
      expect(fs.statSync(file).mode & 0o077, `${file} is readable by others`).toBe(0);
    }
    expect(leaks).toEqual([]);
    expect(fs.statSync(place.home).mode & 0o077).toBe(0);
    daemon = await startIn(place);
  }, 60_000);

  it('does not let another OS user connect to the socket or read the data dir', () => {
    requireRoot('creating and acting as another OS user');
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', OTHER_USER]);
    otherUserMade = true;
    expect(fs.statSync(daemon.socket).mode & 0o777).toBe(0o600);
    const script = `
      const http = require('node:http'); const fs = require('node:fs');
      const out = {};
      try { fs.readFileSync(process.argv[2]); out.read = 'ok'; } catch (e) { out.read = e.code; }
      http.get({ socketPath: process.argv[1], path: '/v1/status' }, (res) => { out.connect = 'HTTP ' + res.statusCode; done(); })
        .on('error', (e) => { out.connect = e.code; done(); });
      function done() { console.log(JSON.stringify(out)); }`;
    const run = spawnSync(
      'runuser',
      ['-u', OTHER_USER, '--', process.execPath, '-e', script, daemon.socket, path.join(place.home, 'state.snapshot')],
      { encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { read: string; connect: string };
    expect(out).toEqual({ read: 'EACCES', connect: 'EACCES' });
  });
});

describe('audit sink unwritable: token reads fail closed', () => {
  let place: DaemonPlace;
  let unmount = () => undefined as void;
  let daemon: DaemonHandle;

  beforeAll(async () => {
    place = tempPlace('bella-auditfull');
    requireRoot('mounting a tmpfs as the data directory');
    unmount = mountTmpfs(place.home, '2m');
    daemon = await startIn(place);
  });
  afterAll(async () => {
    await daemon?.stop();
    unmount();
    place?.cleanup();
  });

  it('answers no token read whose audit entry cannot be written', async () => {
    const { client, socket } = daemon;
    const value = sentinel();
    await client.call('createProject', { slug: 'app', name: 'App' });
    await client.call('createEnvironment', { project: 'app', slug: 'prod', name: 'prod' });
    await client.call('importSecrets', { project: 'app', environment: 'prod', dotenv: toDotenv({ API_KEY: value }) });
    const lease = await issue(client, 'prod', ['API_KEY']);
    expect((await read(socket, lease.token)).status).toBe(200);
    let answered = 1;

    const fillers = fillDisk(place.home);
    // The log's last page may still hold a few entries; once an append fails the sink is full.
    let drained = 0;
    for (;;) {
      const res = await read(socket, lease.token);
      if (res.status !== 200) break;
      answered++;
      expect(++drained).toBeLessThan(200);
    }
    const results = await Promise.all(Array.from({ length: 200 }, () => read(socket, lease.token)));
    for (const res of results) {
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body).error.code).toBe('unavailable');
      expect(res.body).not.toContain(value);
    }
    // The admin plane's reads fail closed too.
    await expect(
      client.call('getSecret', { project: 'app', environment: 'prod', key: 'API_KEY' }),
    ).rejects.toMatchObject({
      code: 'unavailable',
    });

    for (const f of fillers) fs.rmSync(f);
    expect((await read(socket, lease.token)).status).toBe(200);
    answered++;
    // Every read that was answered has its entry; none that was refused does.
    const audit = await client.call('listAudit', { event: 'SecretsRead', outcome: 'Success', lease: lease.id });
    expect(audit.entries.length).toBe(answered);
    expect((await client.call('verifyAudit', {})).ok).toBe(true);
    console.log(
      `audit sink full: ${results.length}/${results.length} token reads refused (unavailable) after ${drained} reads filled the log's last page`,
    );
  }, 120_000);
});
