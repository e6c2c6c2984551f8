import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BellaSandbox, collect, oneErrorLine, waitFor } from '../helpers/cli';
import { createLayout, issueToken } from './fixture';

// Issue 10, items 3 (signals, no inspector, no orphan) and 5 (owner runs are per-run leases).

/** A command that records every signal it gets (one line each) and exits 0 on SIGTERM. */
const RECORDER = `
const fs = require('node:fs');
const file = process.argv[2];
const note = (line) => fs.appendFileSync(file, line + '\\n');
for (const sig of ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH']) {
  process.on(sig, () => {
    note(sig);
    if (sig === 'SIGTERM') process.exit(0);
  });
}
note('pid ' + process.pid + ' ' + (process.env.DATABASE_URL ?? '-'));
setInterval(() => {}, 1000);
`;

interface Lease {
  id: string;
  status: string;
  reason: string;
  scope: string[];
  expiresAt: string;
  issuedAt: string;
  endReason: string | null;
}

describe('issue 10: bella run', { timeout: 240_000 }, () => {
  let b: BellaSandbox;
  let recorder: string;
  let token: string;

  beforeAll(async () => {
    b = new BellaSandbox();
    await createLayout(b, {
      'my-api': {
        staging: { DATABASE_URL: 'postgres://staging', API_KEY: 'key-staging' },
        policy: { DATABASE_URL: 'postgres://policy', API_KEY: 'key-policy' },
      },
    });
    await b.ok([
      'environments',
      'set-lease-policy',
      '-p',
      'my-api',
      '-e',
      'policy',
      '--ttl',
      '2h',
      '--warn-before',
      '10m',
    ]);
    recorder = path.join(b.workDir, 'recorder.cjs');
    fs.writeFileSync(recorder, RECORDER);
    token = await issueToken(b, 'my-api/staging', 'DATABASE_URL', 'signals');
  }, 120_000);
  afterAll(() => b?.stop(), 60_000);

  const lines = (file: string) =>
    fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  const leases = async () => (await b.json<{ leases: Lease[] }>(['leases', 'list', '--all', '-p', 'my-api'])).leases;
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  describe('3. signals', () => {
    it('forwards HUP, INT, QUIT, USR1, USR2, WINCH and TERM to the command; USR1 opens no inspector', async () => {
      const log = path.join(b.workDir, 'signals.log');
      const child = b.spawn(['run', '--token', token, '--', process.execPath, recorder, log]);
      const done = collect(child, undefined, 60_000);
      await waitFor(() => lines(log).length > 0, 'the command to start');
      for (const sig of ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const) {
        child.kill(sig);
        await waitFor(() => lines(log).includes(sig), `the command to get ${sig}`);
        expect(child.exitCode).toBeNull(); // bella is still there, passing signals on
      }
      child.kill('SIGTERM');
      const res = await done;
      expect(res.code, res.stderr).toBe(0);
      expect(lines(log).slice(1)).toEqual(['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGTERM']);
      // Node's inspector would announce itself on stderr (and listen on 127.0.0.1:9229).
      expect(res.stderr).not.toMatch(/Debugger listening|inspector/i);
    });

    it('kill -9 of bella does not leave the command running: it is told so and stopped', async () => {
      const log = path.join(b.workDir, 'orphan.log');
      const child = b.spawn(['run', '--token', token, '--', process.execPath, recorder, log]);
      const done = collect(child, undefined, 60_000);
      await waitFor(() => lines(log).length > 0, 'the command to start');
      const pid = Number(/^pid (\d+)/.exec(lines(log)[0] as string)?.[1]);
      expect(alive(pid)).toBe(true);
      child.kill('SIGKILL');
      await waitFor(() => !alive(pid), 'the orphaned command to be stopped', 20_000);
      expect(lines(log)).toContain('SIGTERM');
      const res = await done;
      expect(res.signal).toBe('SIGKILL');
      expect(res.stderr).toMatch(/bella \(pid \d+\) ended while .*recorder\.cjs.* ran: stopping it/);
    });

    it('on a terminal, Ctrl-C reaches the command once (the terminal sends it; bella does not repeat it)', async () => {
      const log = path.join(b.workDir, 'pty.log');
      const cmd = `bella run --token ${token} -- ${process.execPath} ${recorder} ${log}`;
      const child = spawn('script', ['-qfec', cmd, '/dev/null'], {
        env: b.env(),
        cwd: b.workDir,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const done = collect(child, undefined, 60_000);
      // collect() ended stdin; script keeps the pseudo-terminal open until the command ends.
      await waitFor(() => lines(log).length > 0, 'the command to start on the pseudo-terminal');
      const pid = Number(/^pid (\d+)/.exec(lines(log)[0] as string)?.[1]);
      // Ctrl-C typed on the terminal: the line discipline signals the whole foreground group.
      const pgid = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[2]);
      process.kill(-pgid, 'SIGINT');
      await waitFor(() => lines(log).includes('SIGINT'), 'the command to get SIGINT');
      process.kill(-pgid, 'SIGTERM');
      await done;
      expect(lines(log).filter((l) => l === 'SIGINT')).toEqual(['SIGINT']);
    });
  });

  /** `bella run -p my-api -e staging --reason REASON -- node recorder LOG`, started. */
  async function ownerRecorder(reason: string, log: string) {
    const child = b.spawn([
      'run',
      '-p',
      'my-api',
      '-e',
      'staging',
      '--reason',
      reason,
      '--',
      process.execPath,
      recorder,
      log,
    ]);
    const done = collect(child, undefined, 60_000);
    await waitFor(() => lines(log).length > 0, 'the command to start');
    return { child, done };
  }

  describe('5. owner runs: every run is a lease', () => {
    it('-p/-e without a token: a per-run lease (all keys, 1h, reason = the command), revoked at exit', async () => {
      const started = Date.now();
      const res = await b.run([
        'run',
        '-p',
        'my-api',
        '-e',
        'staging',
        '--',
        process.execPath,
        '-e',
        'console.log(process.env.DATABASE_URL, process.env.API_KEY, process.env.BELLA_TOKEN ?? "no token")',
      ]);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toBe('postgres://staging key-staging no token\n');
      const lease = (await leases()).find((l) => l.reason.startsWith('bella run: '));
      expect(lease).toBeDefined();
      expect(lease?.reason).toBe(
        `bella run: ${process.execPath} -e console.log(process.env.DATABASE_URL, process.env.API_KEY, process.env.BELLA_TOKEN ?? "no token")`,
      );
      expect(lease?.scope).toEqual(['*']);
      expect(lease?.status).toBe('revoked');
      expect(lease?.endReason).toMatch(/^bella run: exited 0 after \d+s$/);
      const ttl = Date.parse(lease?.expiresAt as string) - Date.parse(lease?.issuedAt as string);
      expect(ttl).toBe(3600_000);
      expect(Date.parse(lease?.issuedAt as string)).toBeGreaterThanOrEqual(started - 1000);
      // The audit trail says who ran what, and for how long.
      const { entries } = await b.json<{ entries: { event: string; reason?: string; leaseId?: string }[] }>([
        'audit',
        'list',
        '--lease',
        lease?.id as string,
      ]);
      expect(entries.map((e) => e.event)).toEqual(['LeaseRevoked', 'SecretsRead', 'LeaseIssued']);
      await b.ok(['leases', 'revoke', lease?.id as string]); // already ended: fine
    });

    it('with .bella, --scope, the policy ttl, a non-zero exit and --command through the shell', async () => {
      const dir = fs.mkdtempSync(path.join(b.workDir, 'ctx-'));
      await b.ok(['context', 'init', 'my-api', 'policy'], { cwd: dir });
      const res = await b.run(
        ['run', '--scope', 'API_KEY', '--command', 'echo "[$API_KEY][${DATABASE_URL:-none}]"; exit 3'],
        {
          cwd: dir,
        },
      );
      expect(res.code).toBe(3);
      expect(res.stdout).toBe('[key-policy][none]\n');
      const lease = (await leases()).find((l) => l.reason.startsWith('bella run: echo'));
      expect(lease?.scope).toEqual(['API_KEY']);
      expect(Date.parse(lease?.expiresAt as string) - Date.parse(lease?.issuedAt as string)).toBe(2 * 3600_000);
      expect(lease?.status).toBe('revoked');
      expect(lease?.endReason).toMatch(/^bella run: exited 3 after/);
    });

    it('a signal passed on ends the run, and the lease with it', async () => {
      const log = path.join(b.workDir, 'owner-signal.log');
      const { child, done } = await ownerRecorder('owner signal', log);
      expect(lines(log)[0]).toMatch(/ postgres:\/\/staging$/);
      expect((await leases()).find((l) => l.reason === 'owner signal')?.status).toBe('active');
      child.kill('SIGTERM');
      const res = await done;
      expect(res.code, res.stderr).toBe(0);
      expect((await leases()).find((l) => l.reason === 'owner signal')?.status).toBe('revoked');
    });

    it('kill -9 of bella: the command is stopped and the per-run lease still ends', async () => {
      const { child, done } = await ownerRecorder('owner killed', path.join(b.workDir, 'owner-kill.log'));
      child.kill('SIGKILL');
      await done;
      const ended = await waitFor(
        async () => {
          const lease = (await leases()).find((l) => l.reason === 'owner killed');
          return lease?.status === 'revoked' ? lease : undefined;
        },
        'the per-run lease to be revoked',
        30_000,
      );
      expect(ended?.endReason).toBe('bella run: bella itself was killed');
    });

    it('no token and no environment: a usage error saying both ways', async () => {
      const res = await b.run(['run', '--', 'true'], { cwd: '/' });
      expect(res.code).toBe(2);
      expect(oneErrorLine(res)).toMatch(/--token .*BELLA_TOKEN.*-p PROJECT -e ENVIRONMENT/);
    });
  });
});
