import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { parse as parseDotenv } from 'dotenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BellaSandbox, oneErrorLine, waitFor, type CliResult } from '../helpers/cli';
import { createLayout, issueToken } from './fixture';

// Issue 10, items 7, 8, 9, 11 and 12, through the real CLI against a real daemon.

describe('issue 10: consistency and polish', { timeout: 240_000 }, () => {
  let b: BellaSandbox;
  let ctxDir: string;

  beforeAll(async () => {
    b = new BellaSandbox();
    await createLayout(b, {
      'my-api': { production: { DATABASE_URL: 'postgres://prod' }, staging: { DATABASE_URL: 'postgres://staging' } },
      other: { dev: { OTHER_KEY: 'o' } },
    });
    ctxDir = fs.mkdtempSync(path.join(b.workDir, 'ctx-'));
    await b.ok(['context', 'init', 'my-api', 'staging'], { cwd: ctxDir });
  }, 120_000);
  afterAll(() => b?.stop(), 60_000);

  describe('7. .bella is honoured by every command taking -p/-e', () => {
    it('context show names the file in force', async () => {
      const nested = path.join(ctxDir, 'a', 'b');
      fs.mkdirSync(nested, { recursive: true });
      const shown = await b.ok(['context', 'show'], { cwd: nested });
      expect(shown).toBe(
        `project my-api, environment staging\nfrom ${path.join(ctxDir, '.bella')} (-p/-e override it)\n`,
      );
      expect(await b.json(['context', 'show'], { cwd: nested })).toEqual({
        project: 'my-api',
        environment: 'staging',
        file: path.join(ctxDir, '.bella'),
      });
      const none = await b.ok(['context', 'show'], { cwd: '/' });
      expect(none).toMatch(/^no \.bella in \/ or above/);
    });

    it('leases issue, leases list, envs list, set-lease-policy, audit list and expire-all', async () => {
      const opts = { cwd: ctxDir };
      const issued = await b.json<{ lease: { id: string; project: string; environment: string } }>(
        ['leases', 'issue', '--scope', 'DATABASE_URL', '--reason', 'from .bella'],
        opts,
      );
      expect(issued.lease).toMatchObject({ project: 'my-api', environment: 'staging' });
      await b.ok(['leases', 'issue', '-p', 'other', '-e', 'dev', '--scope', 'OTHER_KEY', '--reason', 'elsewhere']);

      const listed = await b.run(['leases', 'list'], opts);
      expect(listed.stdout).toContain(issued.lease.id);
      expect(listed.stdout).not.toContain('other/dev');
      expect(listed.stderr).toContain(
        `(my-api/staging from ${path.join(ctxDir, '.bella')}; --all-environments for everything)`,
      );
      expect(await b.ok(['leases', 'list', '--all-environments'], opts)).toContain('other/dev');

      const envs = await b.json<{ environments: { slug: string }[] }>(['environments', 'list'], opts);
      expect(envs.environments.map((e) => e.slug).sort()).toEqual(['production', 'staging']);

      await b.ok(['environments', 'set-lease-policy', '--ttl', '24h', '--warn-before', '2h'], opts);
      const policy = await b.json<{ policy: unknown }>([
        'environments',
        'get-lease-policy',
        '-p',
        'my-api',
        '-e',
        'staging',
      ]);
      expect(policy.policy).toEqual({ ttlSeconds: 86400, warnBeforeSeconds: 7200 });

      const audit = await b.json<{ entries: { project?: string; environment?: string }[] }>(['audit', 'list'], opts);
      expect(audit.entries.length).toBeGreaterThan(0);
      expect(audit.entries.every((e) => e.project === 'my-api' && e.environment === 'staging')).toBe(true);

      const expired = await b.json<{ revoked: number }>(['leases', 'expire-all', '--reason', 'rotate staging'], opts);
      expect(expired.revoked).toBe(1);
      const { leases } = await b.json<{ leases: { environment: string; status: string }[] }>([
        'leases',
        'list',
        '--all-environments',
      ]);
      expect(leases.map((l) => l.environment)).toEqual(['dev']);
      // -p/-e still override the file.
      expect(JSON.parse(await b.ok(['pull', '-p', 'my-api', '-e', 'production', '-o', 'json'], opts))).toEqual({
        DATABASE_URL: 'postgres://prod',
      });
    });
  });

  describe('8. filters check that what they name exists', () => {
    it.each([
      [['audit', 'list', '-p', 'my-apii'], 'my-apii'],
      [['leases', 'list', '-p', 'nope'], 'nope'],
      [['leases', 'list', '-p', 'my-api', '-e', 'prod'], 'prod'],
    ])('%j is an error naming it and what exists', async (argv, name) => {
      const res = await b.run(argv);
      expect(res.code).toBe(1);
      const line = oneErrorLine(res);
      expect(line).toContain(name);
      expect(line).toMatch(/my-api|production/);
      expect(res.stdout).toBe('');
    });
  });

  describe("9. errors: JSON with --json, the user's words, exit 2 for usage, no stack", () => {
    it('a daemon refusal names the flag the user typed, and is JSON with --json, exit 1', async () => {
      const res = await b.run([
        'leases',
        'issue',
        '-p',
        'my-api',
        '-e',
        'production',
        '--scope',
        'DATABASE_URL',
        '--ttl',
        '400d',
        '--reason',
        'x',
        '--json',
      ]);
      expect(res.code).toBe(1);
      expect(oneErrorLine(res)).toBe('error: --ttl: at most 366 days');
      expect(JSON.parse(res.stdout)).toEqual({
        error: { code: 'invalid_argument', message: '--ttl: at most 366 days' },
      });
      expect(res.stderr).not.toMatch(/ttlSeconds/);
    });

    it('a usage error is exit 2, and JSON on stdout with --json', async () => {
      const res = await b.run(['audit', 'list', '--since', 'last tuesday', '--json']);
      expect(res.code).toBe(2);
      expect(oneErrorLine(res)).toMatch(/^error: --since takes an ISO time/);
      expect(res.stderr).not.toMatch(/since: since/);
      expect(JSON.parse(res.stdout)).toEqual({
        error: { code: 'invalid_argument', message: expect.stringMatching(/^--since takes/) },
      });
    });

    it('a key the contract refuses is named as the user typed it, set and push alike (with the line)', async () => {
      const set = await b.run(['secrets', 'set', 'my-key', 'v', '-p', 'my-api', '-e', 'staging']);
      expect(set.code).toBe(1);
      expect(oneErrorLine(set)).toBe(
        'error: KEY my-key: keys are letters, digits and underscores, not starting with a digit',
      );
      fs.writeFileSync(path.join(b.workDir, 'keys.env'), 'GOOD=1\nmy-key=2\n');
      const push = await b.run(['secrets', 'push', 'keys.env', '-p', 'my-api', '-e', 'staging']);
      expect(push.code).toBe(1);
      expect(oneErrorLine(push)).toBe(
        'error: KEY my-key (line 2 of keys.env): keys are letters, digits and underscores, not starting with a digit: nothing was imported; fix the file, or pass --skip-invalid to import the other lines',
      );
      expect(push.stderr).not.toMatch(/secrets\.my-key|Invalid key in record/);
      for (const res of [set, push]) expect(res.stderr).not.toMatch(/\n\s+at /);
    });
  });

  describe('11. revoke and expire-all', () => {
    it('leases revoke takes the token itself; revoking an ended lease says so and exits 0', async () => {
      const token = await issueToken(b, 'my-api/production', 'DATABASE_URL', 'revoke by token');
      const first = await b.run(['leases', 'revoke', token]);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/^revoked lease [a-z0-9]{16} \(my-api\/production\)/);
      const again = await b.run(['leases', 'revoke', token]);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/^lease [a-z0-9]{16} had already ended \(revoked .*\): nothing to revoke\n$/);
      expect(await b.json(['leases', 'revoke', token])).toMatchObject({ alreadyEnded: true });
    });

    it('the expired-token message does not talk about renewing', async () => {
      const token = await issueToken(b, 'my-api/production', 'DATABASE_URL', 'short', ['--ttl', '1s']);
      const res = await waitFor(async () => {
        const r = await b.run(['secrets', 'get', 'DATABASE_URL', '--token', token]);
        return r.code === 1 ? r : undefined;
      }, 'the one-second lease to expire');
      const line = oneErrorLine(res as CliResult);
      expect(line).toMatch(/expired/);
      expect(line).not.toMatch(/renew/i);
    });

    it('expire-all on a terminal says how many leases it ends and takes --reason', async () => {
      for (let i = 0; i < 3; i++) {
        await issueToken(b, 'my-api/production', 'DATABASE_URL', `tty ${i}`);
      }
      const res = await b.shell(
        `script -qec 'bella leases expire-all -p my-api -e production --reason "incident 42"' /dev/null`,
        { input: 'production\n' },
      );
      expect(res.code, res.stdout).toBe(0);
      expect(res.stdout).toContain('this revokes the 3 active leases of my-api/production');
      expect(res.stdout).toMatch(/revoked 3 active leases of my-api\/production/i);
      const { entries } = await b.json<{ entries: { event: string; reason?: string; message?: string }[] }>([
        'audit',
        'list',
        '--event',
        'LeasesExpiredAll',
        '-p',
        'my-api',
        '-e',
        'production',
      ]);
      expect(JSON.stringify(entries[0])).toContain('incident 42');
    });
  });

  describe('12. help, suggestions and formats', () => {
    it("bella help leases issue prints that command's help", async () => {
      const help = await b.ok(['help', 'leases', 'issue']);
      expect(help).toMatch(/^Usage: bella leases issue \[options\]/);
      expect(help).toContain('--scope <keys>');
      expect(help).toBe(await b.ok(['leases', 'issue', '--help']));
    });

    it('--scop X: unknown option --scop (did you mean --scope?)', async () => {
      const res = await b.run(['leases', 'issue', '-p', 'my-api', '-e', 'production', '--scop', 'X', '--reason', 'r']);
      expect(res.code).toBe(2);
      expect(oneErrorLine(res)).toBe('error: unknown option --scop (did you mean --scope?)');
    });

    it('secrets set FOO=bar suggests secrets set FOO bar', async () => {
      const res = await b.run(['secrets', 'set', 'FOO=bar', '-p', 'my-api', '-e', 'staging']);
      expect(res.code).toBe(1);
      expect(oneErrorLine(res)).toContain('bella secrets set FOO bar');
    });

    it('--out picks the format from the extension unless -o says otherwise; -o yaml --json is a usage error', async () => {
      const base = ['pull', '-p', 'my-api', '-e', 'production'];
      await b.ok([...base, '--out', 'x.json']);
      expect(JSON.parse(fs.readFileSync(path.join(b.workDir, 'x.json'), 'utf8'))).toEqual({
        DATABASE_URL: 'postgres://prod',
      });
      await b.ok([...base, '--out', 'x.yaml']);
      expect(YAML.parse(fs.readFileSync(path.join(b.workDir, 'x.yaml'), 'utf8'))).toEqual({
        DATABASE_URL: 'postgres://prod',
      });
      await b.ok([...base, '--out', 'x.yml', '-o', 'dotenv']);
      expect(parseDotenv(fs.readFileSync(path.join(b.workDir, 'x.yml')))).toEqual({ DATABASE_URL: 'postgres://prod' });
      const conflict = await b.run([...base, '-o', 'yaml', '--json']);
      expect(conflict.code).toBe(2);
      expect(oneErrorLine(conflict)).toBe('error: conflicting -o yaml and --json: use one of them');
    });

    it('issue --help shows examples that work as written', async () => {
      const help = await b.ok(['issue', '--help']);
      const examples =
        help
          .split('Examples:\n')[1]
          ?.split('\n')
          .map((l) => l.trim())
          .filter(Boolean) ?? [];
      expect(examples.length).toBeGreaterThan(0);
      for (const example of examples) {
        const res = await b.shell(`${example} && echo "[$TOKEN]"`);
        expect(res.code, `${example}\n${res.stderr}`).toBe(0);
        expect(res.stdout).toMatch(/bax-[a-z0-9]{16}-/);
      }
    });
  });
});
