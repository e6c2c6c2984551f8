import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BellaSandbox, oneErrorLine } from '../helpers/cli';
import { createLayout, issueToken } from './fixture';

// Issue 10, items 1, 2 and 4, through the real CLI against a real daemon.

/** Values that break naive quoting: command substitution, backticks, quotes, newlines, backslashes, unicode. */
const HOSTILE = {
  SUBST: '$(touch pwned-subst)',
  BACKTICKS: '`touch pwned-backtick`',
  SINGLE: "it's here",
  DOUBLE: 'say "hi" twice',
  MULTI: 'line1\nline2\n  line3',
  BACKSLASH: 'C:\\new\\table',
  UNICODE: 'ünïcødé 漢字 😀 — ok',
  DOLLAR_VAR: 'cost=$HOME and ${PATH}',
  SEMI: 'a; touch pwned-semi && echo b | tee pwned-pipe',
  APOS_BACKSLASH: "don't C:\\dir",
};

/** Runs `script` with a real shell in `dir`; the script prints the named variables as JSON via node. */
function sourceWith(
  shell: string,
  dir: string,
  script: string,
  keys: string[],
  env: NodeJS.ProcessEnv = { PATH: process.env.PATH },
): Record<string, string | null> {
  const out = execFileSync(
    shell,
    [
      '-c',
      `${script}\nexec "$0" -e 'process.stdout.write(JSON.stringify(Object.fromEntries(process.argv.slice(1).map((k) => [k, process.env[k] ?? null]))))' ${keys.join(' ')}`,
      process.execPath,
    ],
    { cwd: dir, encoding: 'utf8', env },
  );
  return JSON.parse(out) as Record<string, string | null>;
}

describe('issue 10: safety', { timeout: 180_000 }, () => {
  let b: BellaSandbox;
  let prodToken: string;

  beforeAll(async () => {
    b = new BellaSandbox();
    await createLayout(b, {
      'my-api': {
        production: { DATABASE_URL: 'postgres://prod' },
        staging: { DATABASE_URL: 'postgres://staging', ...HOSTILE },
      },
    });
    prodToken = await issueToken(b, 'my-api/production', 'DATABASE_URL', 'prod job');
  }, 120_000);
  afterAll(() => b?.stop(), 60_000);

  /** The sequence number of the newest SecretsRead entry: unchanged means nothing was read. */
  const lastRead = async () =>
    (await b.json<{ entries: { seq: number }[] }>(['audit', 'list', '--event', 'SecretsRead', '--limit', '1']))
      .entries[0]?.seq;

  describe('1. a token never overrides an explicit -p/-e', () => {
    it.each([
      [['pull', '-p', 'my-api', '-e', 'staging']],
      [['pull', '-e', 'staging']],
      [['secrets', 'get', 'DATABASE_URL', '-p', 'my-api', '-e', 'staging']],
      [['run', '-p', 'my-api', '-e', 'staging', '--', 'sh', '-c', 'echo "$DATABASE_URL"']],
    ])('%j with a production BELLA_TOKEN: an error naming both, nothing read', async (argv) => {
      const before = await lastRead();
      const res = await b.run(argv, { env: { BELLA_TOKEN: prodToken } });
      expect(res.code).toBe(1);
      const line = oneErrorLine(res);
      expect(line).toContain('my-api/production');
      expect(line).toContain('my-api/staging');
      expect(res.stdout).not.toContain('postgres://');
      expect(await lastRead()).toBe(before);
    });

    it('the same -p/-e as the token, or none, reads with the token', async () => {
      const same = await b.run(['pull', '-p', 'my-api', '-e', 'production', '-o', 'json'], {
        env: { BELLA_TOKEN: prodToken },
      });
      expect(same.code, same.stderr).toBe(0);
      expect(JSON.parse(same.stdout)).toEqual({ DATABASE_URL: 'postgres://prod' });
      const none = await b.run(['pull', '-o', 'json'], { env: { BELLA_TOKEN: prodToken } });
      expect(JSON.parse(none.stdout)).toEqual({ DATABASE_URL: 'postgres://prod' });
      const json = await b.run(['pull', '-p', 'my-api', '-e', 'staging', '--json'], {
        env: { BELLA_TOKEN: prodToken },
      });
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toEqual({
        error: { code: 'invalid_argument', message: expect.stringContaining('my-api/staging') },
      });
    });
  });

  describe('2. dotenv and shell output are safe to source', () => {
    it('pull -o dotenv: dotenv, sh and bash read back the originals, and nothing runs', async () => {
      const dir = fs.mkdtempSync(path.join(b.workDir, 'src-'));
      const text = await b.ok(['pull', '-p', 'my-api', '-e', 'staging', '-o', 'dotenv']);
      fs.writeFileSync(path.join(dir, 'app.env'), text);
      const expected = { ...HOSTILE, DATABASE_URL: 'postgres://staging' };
      expect(parseDotenv(text)).toEqual(expected);
      for (const shell of ['/bin/sh', '/bin/dash', '/bin/bash']) {
        expect(sourceWith(shell, dir, 'set -a; . ./app.env; set +a', Object.keys(expected))).toEqual(expected);
      }
      expect(fs.readdirSync(dir)).toEqual(['app.env']);
    });

    it('pull -o shell: eval "$(bella pull -o shell)" in sh and bash gives the originals, nothing runs', async () => {
      const dir = fs.mkdtempSync(path.join(b.workDir, 'eval-'));
      const expected = { ...HOSTILE, DATABASE_URL: 'postgres://staging' };
      for (const shell of ['/bin/sh', '/bin/bash']) {
        const env = { PATH: b.env().PATH, BELLA_HOME: b.home, BELLA_SOCKET: b.socket };
        const script = 'eval "$(bella pull -p my-api -e staging -o shell)"';
        expect(sourceWith(shell, dir, script, Object.keys(expected), env)).toEqual(expected);
      }
      expect(fs.readdirSync(dir)).toEqual([]);
    });

    it('a value with both quote kinds: -o shell carries it, -o dotenv refuses rather than write it wrong', async () => {
      const both = `it's "both" $(touch pwned-both)`;
      await b.ok(['secrets', 'set', 'BOTH', '-p', 'my-api', '-e', 'staging'], { input: both });
      const refused = await b.run(['pull', '-p', 'my-api', '-e', 'staging']);
      expect(refused.code).toBe(1);
      expect(oneErrorLine(refused)).toMatch(/the value of BOTH .*-o shell/);
      expect(refused.stdout).toBe('');
      const dir = fs.mkdtempSync(path.join(b.workDir, 'both-'));
      fs.writeFileSync(path.join(dir, 'app.sh'), await b.ok(['pull', '-p', 'my-api', '-e', 'staging', '-o', 'shell']));
      for (const shell of ['/bin/sh', '/bin/bash']) {
        expect(sourceWith(shell, dir, '. ./app.sh', ['BOTH'])).toEqual({ BOTH: both });
      }
      expect(fs.readdirSync(dir)).toEqual(['app.sh']);
      await b.ok(['secrets', 'delete', 'BOTH', '-p', 'my-api', '-e', 'staging']);
    });
  });

  describe('4. NUL bytes and unwritable output files', () => {
    it('secrets set refuses a NUL in the value with its own message naming the key', async () => {
      const res = await b.run(['secrets', 'set', 'WITH_NUL', '-p', 'my-api', '-e', 'staging'], { input: 'a\0b' });
      expect(res.code).toBe(1);
      expect(oneErrorLine(res)).toBe(
        'error: the value of WITH_NUL contains a NUL byte (\\0), which no environment variable can hold: remove it',
      );
    });

    it('secrets push refuses a NUL with the key and the line number, and pushes nothing', async () => {
      fs.writeFileSync(path.join(b.workDir, 'nul.env'), 'FIRST=ok\n# comment\nSECOND="a\0b"\n');
      const res = await b.run(['secrets', 'push', 'nul.env', '-p', 'my-api', '-e', 'staging']);
      expect(res.code).toBe(1);
      expect(oneErrorLine(res)).toBe(
        'error: the value of SECOND (line 3 of nul.env) contains a NUL byte (\\0), which no environment variable can hold: remove it: nothing was imported; fix the file, or pass --skip-invalid to import the other lines',
      );
      const { secrets } = await b.json<{ secrets: { key: string }[] }>([
        'secrets',
        'list',
        '-p',
        'my-api',
        '-e',
        'staging',
      ]);
      expect(secrets.map((s) => s.key)).not.toContain('FIRST');
    });

    it("pull --out into a missing directory: one line naming the user's path, never a temp file", async () => {
      const res = await b.run(['pull', '-p', 'my-api', '-e', 'production', '--out', '/nonexistent/dir/x.env']);
      expect(res.code).toBe(1);
      expect(oneErrorLine(res)).toBe('error: cannot write /nonexistent/dir/x.env: its directory does not exist');
      expect(res.stderr).not.toMatch(/\.tmp|\n\s+at /);
    });
  });
});
