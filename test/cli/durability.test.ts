import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BellaSandbox, filesUnder, oneErrorLine, waitFor } from '../helpers/cli';

interface IssuedJson {
  lease: { id: string; expiresAt: string };
  token: string;
}

const SECRETS = {
  DB_PASSWORD: 'pw-durable-8c1f2e77a0',
  API_TOKEN: 'tok-durable-55aa19bd3e',
  MULTILINE: 'line-one-d41d8\nline-two-cd98f',
};

describe('restart, files on disk and the audit chain', { timeout: 180_000 }, () => {
  let b: BellaSandbox;
  let longLease: IssuedJson;
  let shortLease: IssuedJson;

  beforeAll(async () => {
    b = new BellaSandbox();
    await b.ok(['projects', 'create', '--name', 'Vault', '--slug', 'vault']);
    await b.ok(['environments', 'create', '-p', 'vault', '--name', 'Live', '--slug', 'live']);
    for (const [key, value] of Object.entries(SECRETS)) {
      await b.ok(['secrets', 'set', key, '-p', 'vault', '-e', 'live'], { input: value });
    }
    await b.ok(['environments', 'set-lease-policy', '-p', 'vault', '-e', 'live', '--ttl', '7d', '--warn-before', '1d']);
    longLease = await b.json<IssuedJson>([
      'leases',
      'issue',
      '-p',
      'vault',
      '-e',
      'live',
      '--scope',
      'DB_PASSWORD,API_TOKEN',
      '--ttl',
      '4h',
      '--reason',
      'long',
    ]);
    shortLease = await b.json<IssuedJson>([
      'leases',
      'issue',
      '-p',
      'vault',
      '-e',
      'live',
      '--scope',
      'DB_PASSWORD',
      '--ttl',
      '3s',
      '--reason',
      'expires while the daemon is down',
    ]);
  }, 120_000);
  afterAll(() => b?.stop(), 60_000);

  it('after kill -9 and a restart: leases, secrets and policy intact, the lease that expired while down refused', async () => {
    const oldPid = await b.killDaemon();
    expect(fs.existsSync(b.socket)).toBe(true); // a stale socket left by the crash
    await waitFor(
      () => Date.now() > Date.parse(shortLease.lease.expiresAt) + 200,
      'the short lease to pass its expiry',
    );

    // On the owner's machine (an initialised data directory) a token starts the daemon, as
    // owner commands do (issue 16, item 6); the first read after the restart is the expired
    // token itself.
    expect(await b.answering()).toBe(false);
    const refused = await b.run(['secrets', 'get', 'DB_PASSWORD', '--token', shortLease.token]);
    expect(refused.code).toBe(1);
    expect(oneErrorLine(refused)).toMatch(/expired/i);
    expect(await b.daemonPid()).not.toBe(oldPid);

    expect(await b.ok(['secrets', 'get', 'API_TOKEN', '--token', longLease.token])).toBe(`${SECRETS.API_TOKEN}\n`);
    expect(JSON.parse(await b.ok(['pull', '-p', 'vault', '-e', 'live', '-o', 'json']))).toEqual(SECRETS);
    const { policy } = await b.json<{ policy: unknown }>([
      'environments',
      'get-lease-policy',
      '-p',
      'vault',
      '-e',
      'live',
    ]);
    expect(policy).toEqual({ ttlSeconds: 7 * 86400, warnBeforeSeconds: 86400 });
    const { leases } = await b.json<{ leases: { id: string; status: string }[] }>(['leases', 'list', '--all']);
    expect(leases).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: longLease.lease.id, status: 'active' }),
        expect.objectContaining({ id: shortLease.lease.id, status: 'expired' }),
      ]),
    );
  });

  it('a killed daemon not yet reaped (a zombie whose pid is in the lock) does not stop the next start', async () => {
    await b.killDaemon();
    // A process that has exited while its parent has not waited for it: what a daemon killed
    // with -9 is until init reaps it. Signal 0 still reaches it.
    const fork =
      'import os, time\nchild = os.fork()\nif child == 0: os._exit(0)\nprint(child, flush=True)\ntime.sleep(60)';
    const parent = spawn('python3', ['-c', fork], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
      const zombie = Number(line.toString().trim());
      await waitFor(
        () => fs.readFileSync(`/proc/${zombie}/stat`, 'latin1').split(') ')[1]!.startsWith('Z'),
        'the child to be a zombie',
      );
      fs.writeFileSync(path.join(b.home, 'daemon.pid'), `${zombie}\n`);
      const res = await b.run(['leases', 'list', '--json']);
      expect(res.code, res.stderr).toBe(0);
      expect(await b.daemonPid()).not.toBe(zombie);
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('data dir 0700, every file and the socket 0600, and no secret value or token in plaintext', async () => {
    expect(await b.answering()).toBe(true);
    const mode = (p: string) => fs.statSync(p).mode & 0o777;
    expect(mode(b.home)).toBe(0o700);
    expect(mode(path.dirname(b.socket))).toBe(0o700);
    expect(fs.statSync(b.socket).isSocket()).toBe(true);
    expect(mode(b.socket)).toBe(0o600);
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          expect([full, mode(full)]).toEqual([full, 0o700]);
          walk(full);
        } else expect([full, mode(full)]).toEqual([full, 0o600]);
      }
    };
    walk(b.home);

    const needles = [
      ...Object.values(SECRETS),
      ...SECRETS.MULTILINE.split('\n'),
      longLease.token,
      shortLease.token,
      // The random part of each token, in case it were stored without its prefix.
      ...[longLease.token, shortLease.token].map((t) => t.slice(t.lastIndexOf('-') + 1)),
    ];
    const files = filesUnder(b.home).filter((f) => fs.statSync(f).isFile());
    expect(files.map((f) => path.relative(b.home, f))).toEqual(
      expect.arrayContaining(['state.snapshot', 'state.journal', 'master.key', 'audit/000000000001.log']),
    );
    for (const file of files) {
      const text = fs.readFileSync(file).toString('latin1');
      for (const needle of needles) {
        expect(text.includes(needle), `${needle} found in ${file}`).toBe(false);
      }
    }
  });

  it('editing one audit line makes bella audit verify fail and name it', async () => {
    const ok = await b.run(['audit', 'verify']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/intact/);

    const log = path.join(b.home, 'audit', '000000000001.log');
    const lines = fs.readFileSync(log, 'utf8').split('\n');
    const target = lines.findIndex((l) => l.includes('"LeaseIssued"') && l.includes('"long"'));
    expect(target).toBeGreaterThan(0);
    const seq = Number(/"seq":(\d+)/.exec(lines[target]!)![1]);
    lines[target] = (lines[target] as string).replace('"long"', '"lonG"');
    fs.writeFileSync(log, lines.join('\n'));

    const broken = await b.run(['audit', 'verify']);
    expect(broken.code).toBe(1);
    expect(oneErrorLine(broken)).toContain(`entry ${seq}`);
    const json = await b.run(['audit', 'verify', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, firstBroken: { seq, file: log } });
  });
});
