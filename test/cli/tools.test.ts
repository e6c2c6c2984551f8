import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BellaSandbox, oneErrorLine, repoRoot } from '../helpers/cli';
import { createLayout, issueToken } from './fixture';

// Issue 10 items 13 (completion, doctor, --version) and 14 (honest notification health), the
// token-plane commands, and issue 8 item 10 (daemon start prints the daemon's own reason).

/** Completions bash offers for the words typed so far (the last one being completed). */
async function bashComplete(b: BellaSandbox, words: string[]): Promise<string[]> {
  const array = words.map((w) => `'${w}'`).join(' ');
  const res = await b.shell(
    `exec bash -c 'source <(bella completion bash); COMP_WORDS=(bella ${array.replace(/'/g, "'\\''")}); COMP_CWORD=${words.length}; _bella; printf "%s\\n" "\${COMPREPLY[@]}"'`,
  );
  expect(res.code, res.stderr).toBe(0);
  return res.stdout.split('\n').filter(Boolean);
}

function fakeNotifySend(dir: string, exitCode: number): string {
  const bin = fs.mkdtempSync(path.join(dir, 'notify-'));
  fs.writeFileSync(
    path.join(bin, 'notify-send'),
    `#!/bin/sh\n${exitCode === 0 ? 'exit 0' : `echo "notify boom" >&2; exit ${exitCode}`}\n`,
    { mode: 0o755 },
  );
  return bin;
}

describe('completion, doctor, version, token commands, daemon health', { timeout: 240_000 }, () => {
  let b: BellaSandbox;
  let token: string;

  beforeAll(async () => {
    b = new BellaSandbox();
    await createLayout(b, { 'my-api': { production: { DATABASE_URL: 'postgres://db', REDIS_URL: 'redis://cache' } } });
    token = await issueToken(b, 'my-api/production', 'DATABASE_URL', 'tools');
  }, 120_000);
  afterAll(() => b?.stop(), 60_000);

  describe('13. completion', () => {
    it('bash completes commands, options, choices, and names from the daemon', async () => {
      expect(await bashComplete(b, ['lea'])).toEqual(['leases']);
      expect(await bashComplete(b, ['leases', 'is'])).toEqual(['issue']);
      expect(await bashComplete(b, ['leases', 'issue', '--sc'])).toEqual(['--scope']);
      expect(await bashComplete(b, ['leases', 'list', '--status', ''])).toEqual(['active', 'expired', 'revoked']);
      expect(await bashComplete(b, ['pull', '-p', ''])).toEqual(['my-api']);
      expect(await bashComplete(b, ['pull', '-p', 'my-api', '-e', 'pr'])).toEqual(['production']);
      expect(await bashComplete(b, ['secrets', 'get', '-p', 'my-api', '-e', 'production', ''])).toEqual([
        'DATABASE_URL',
        'REDIS_URL',
      ]);
      expect(await bashComplete(b, ['completion', ''])).toEqual(['bash', 'zsh', 'fish']);
    });

    it('zsh and fish scripts drive the same protocol', async () => {
      for (const shell of ['zsh', 'fish']) {
        const script = await b.ok(['completion', shell]);
        expect(script).toContain('bella __complete --');
      }
      expect(await b.ok(['__complete', '--', 'secrets', 'get', '-p', 'my-api', '-e', 'production', 'RE'])).toBe(
        'REDIS_URL\n',
      );
      const unknown = await b.run(['completion', 'tcsh']);
      expect(unknown.code).toBe(2);
    });

    it('never starts a daemon: names are simply not offered when none runs', async () => {
      const other = new BellaSandbox();
      try {
        expect(await bashComplete(other, ['pull', '-p', ''])).toEqual([]);
        expect(await bashComplete(other, ['secr'])).toEqual(['secrets']);
        expect(await other.answering()).toBe(false);
      } finally {
        await other.stop();
      }
    });
  });

  describe('13. doctor and --version', () => {
    it('--version, also as JSON', async () => {
      const version = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version;
      expect(await b.ok(['--version'])).toBe(`bella ${version}\n`);
      expect(await b.json(['--version'])).toEqual({ version, node: process.version });
    });

    it('doctor: each check ok or what to do; a file others can read fails it', async () => {
      const ok = await b.json<{ ok: boolean; checks: { name: string; status: string }[] }>(['doctor']);
      expect(ok.ok).toBe(true);
      expect(ok.checks.map((c) => c.name)).toEqual(
        expect.arrayContaining([
          'versions',
          'daemon',
          'data dir',
          'socket',
          'disk',
          'notify-send',
          'D-Bus',
          'listener',
        ]),
      );
      const text = await b.ok(['doctor']);
      expect(text).toMatch(/^CHECK +STATUS +DETAIL/);
      const leaky = path.join(b.home, 'leaky.txt');
      fs.writeFileSync(leaky, 'x', { mode: 0o644 });
      fs.chmodSync(leaky, 0o644);
      try {
        const res = await b.run(['doctor']);
        expect(res.code).toBe(1);
        expect(res.stdout).toMatch(/data files +fail +readable by others: leaky\.txt: chmod 600 /);
      } finally {
        fs.rmSync(leaky);
      }
    });

    it('doctor never starts a daemon', async () => {
      const other = new BellaSandbox();
      try {
        const res = await other.run(['doctor', '--json']);
        const report = JSON.parse(res.stdout) as { checks: { name: string; status: string; fix?: string }[] };
        expect(report.checks.find((c) => c.name === 'daemon')).toMatchObject({
          status: 'warn',
          fix: expect.stringContaining('bella daemon start'),
        });
        expect(await other.answering()).toBe(false);
      } finally {
        await other.stop();
      }
    });
  });

  describe('token lookup and revoke (the token plane)', () => {
    it('lookup shows the holder its lease, as text and JSON, with --token or BELLA_TOKEN', async () => {
      await b.ok(['secrets', 'get', 'DATABASE_URL', '--token', token]);
      const text = await b.ok(['token', 'lookup', '--token', token]);
      expect(text).toMatch(
        /^lease +[a-z0-9]{16}\nenvironment +my-api\/production\nscope +DATABASE_URL\nstatus +active/,
      );
      const json = await b.json<{ lease: { scope: string[]; uses: number } }>(['token', 'lookup'], {
        env: { BELLA_TOKEN: token },
      });
      expect(json.lease.scope).toEqual(['DATABASE_URL']);
      expect(json.lease.uses).toBeGreaterThanOrEqual(1);
    });

    it('revoke ends the lease; again it says it already ended, exit 0', async () => {
      const own = (
        await b.ok(['issue', '-p', 'my-api', '-e', 'production', '--scope', 'REDIS_URL', '--reason', 'ci job'])
      ).trim();
      expect(await b.ok(['token', 'revoke', '--token', own, '--reason', 'job done'])).toMatch(
        /^revoked lease [a-z0-9]{16} \(my-api\/production\)/,
      );
      expect((await b.run(['secrets', 'get', 'REDIS_URL', '--token', own])).code).toBe(1);
      const again = await b.run(['token', 'revoke', '--token', own]);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/had already ended \(revoked/);
    });

    it('a token this daemon does not know, or no daemon at all: where to look instead, and no daemon started', async () => {
      const stranger = `bax-${'a'.repeat(16)}-${'b'.repeat(43)}`;
      for (const argv of [
        ['token', 'lookup', '--token', stranger],
        ['pull', '--token', stranger],
      ]) {
        const res = await b.run(argv);
        expect(res.code).toBe(1);
        expect(oneErrorLine(res)).toBe(
          'error: no daemon here holds this lease: set BELLA_SERVER to the address its owner gave you',
        );
      }
      const other = new BellaSandbox();
      try {
        for (const argv of [
          ['token', 'lookup'],
          ['token', 'revoke'],
          ['pull'],
          ['secrets', 'get', 'DATABASE_URL'],
          ['run', '--', 'true'],
        ]) {
          const res = await other.run(argv, { env: { BELLA_TOKEN: token } });
          expect(res.code, argv.join(' ')).toBe(1);
          expect(oneErrorLine(res)).toBe(
            'error: no daemon here holds this lease: set BELLA_SERVER to the address its owner gave you',
          );
        }
        expect(await other.answering()).toBe(false);
        expect(fs.existsSync(other.home)).toBe(false);
      } finally {
        await other.stop();
      }
    });
  });

  describe('14. daemon status reports notifications honestly', () => {
    it.each([
      [0, 'delivered'],
      [1, 'not delivered: notify-send failed (exit 1): notify boom'],
    ])('unknown until one is sent or tested; then what happened (notify-send exits %i)', async (exitCode, after) => {
      const s = new BellaSandbox();
      const env = { PATH: `${fakeNotifySend(s.workDir, exitCode)}${path.delimiter}${s.env().PATH}` };
      try {
        await s.ok(['daemon', 'start'], { env });
        expect(await s.ok(['daemon', 'status'], { env })).toMatch(
          /notifications +not known yet: none sent since the daemon started/,
        );
        expect((await s.json<{ notifications: unknown }>(['daemon', 'status'], { env })).notifications).toEqual({
          available: null,
          problem: null,
        });
        const test = await s.run(['notifications', 'test'], { env });
        expect(test.code).toBe(exitCode === 0 ? 0 : 1);
        expect(await s.ok(['daemon', 'status'], { env })).toContain(`notifications  ${after}`);
        expect(
          (await s.json<{ notifications: { available: boolean } }>(['daemon', 'status'], { env })).notifications
            .available,
        ).toBe(exitCode === 0);
      } finally {
        await s.stop();
      }
    });
  });

  describe("issue 8, item 10: bella daemon start prints the daemon's own reason", () => {
    it('a state.json that is not a bella state', async () => {
      const s = new BellaSandbox();
      try {
        fs.mkdirSync(s.home, { recursive: true, mode: 0o700 });
        fs.writeFileSync(path.join(s.home, 'state.json'), '{"hello": "not bella"}\n', { mode: 0o600 });
        const res = await s.run(['daemon', 'start']);
        expect(res.code).toBe(1);
        const line = oneErrorLine(res);
        const own = fs
          .readFileSync(path.join(s.home, 'daemon.log'), 'utf8')
          .split('\n')
          .find((l) => l.startsWith('error: '))
          ?.slice('error: '.length);
        expect(own).toBeTruthy();
        expect(line).toBe(`error: the bella daemon could not start: ${own} (log: ${path.join(s.home, 'daemon.log')})`);
        expect(line).not.toMatch(/within \d+ ms/);
      } finally {
        await s.stop();
      }
    });
  });
});

describe('first use, several at once', { timeout: 120_000 }, () => {
  it('commands started together on a data dir with no daemon all succeed: one daemon serves them', async () => {
    const s = new BellaSandbox();
    try {
      const results = await Promise.all(Array.from({ length: 4 }, () => s.run(['projects', 'list'])));
      for (const res of results) {
        expect(res.code, res.stderr).toBe(0);
        expect(res.stdout).toMatch(/no projects yet/);
      }
      expect(await s.answering()).toBe(true);
      // The daemons the others spawned have given up: none is left starting, to serve later.
      expect(daemonsOf(s.home)).toHaveLength(1);
    } finally {
      await s.stop();
    }
    expect(daemonsOf(s.home)).toEqual([]);
  });
});

/** Pids of the daemon processes running for data dir `home`. */
function daemonsOf(home: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return args.some((a) => a.endsWith('daemon.cjs')) && args[args.indexOf('--home') + 1] === home;
      } catch {
        return false; // exited meanwhile
      }
    })
    .map(Number);
}
