import fs from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BellaSandbox, oneErrorLine } from '../helpers/cli';

// The product page (shared/seed/secret-leases.txt), run as written through a real shell.
const ISSUE = `bella leases issue \\
  --project my-api \\
  --environment production \\
  --scope "DATABASE_URL,REDIS_URL" \\
  --ttl 4h \\
  --reason "Contractor onboarding - Jane Doe"`;
const SET_POLICY = `bella environments set-lease-policy \\
  --project my-api \\
  --environment production \\
  --ttl 24h \\
  --warn-before 2h`;
const LIST = 'bella leases list --project my-api --environment production';
const EXPIRE_ALL = 'bella leases expire-all --project my-api --environment production';

const VALUES = {
  DATABASE_URL: 'postgres://jane:db-pass-7f3a9c@db.internal:5432/app',
  REDIS_URL: 'redis://:redis-pass-51be07@cache.internal:6379/0',
  STRIPE_KEY: 'sk_live_stripe-4e1d0b8a',
};

describe('the product page, verbatim', { timeout: 120_000 }, () => {
  let b: BellaSandbox;
  let token = '';
  let leaseId = '';

  beforeAll(async () => {
    b = new BellaSandbox();
    await b.ok(['projects', 'create', '--name', 'My API', '--slug', 'my-api']);
    await b.ok(['environments', 'create', '--project', 'my-api', '--name', 'Production', '--slug', 'production']);
    await b.ok(['secrets', 'set', 'DATABASE_URL', VALUES.DATABASE_URL, '-p', 'my-api', '-e', 'production']);
    await b.ok(['secrets', 'set', 'REDIS_URL', VALUES.REDIS_URL, '-p', 'my-api', '-e', 'production']);
    // From stdin, so the value stays out of shell history.
    await b.ok(['secrets', 'set', 'STRIPE_KEY', '-p', 'my-api', '-e', 'production'], {
      input: `${VALUES.STRIPE_KEY}\n`,
    });
  }, 120_000);
  afterAll(() => b?.stop(), 60_000);

  it('bella leases issue … prints a bax- token, and only that, on stdout', async () => {
    const res = await b.shell(ISSUE);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^bax-[A-Za-z0-9_-]+\n$/);
    token = res.stdout.trim();
    expect(res.stderr).toMatch(/lease [a-z0-9]{16} for my-api\/production/);
    expect(res.stderr).toContain('shown once');
    leaseId = /lease ([a-z0-9]{16})/.exec(res.stderr)?.[1] ?? '';
    expect(token).toContain(leaseId);
  });

  it('the token reads exactly the two named keys, through secrets get, pull and run', async () => {
    expect(await b.ok(['secrets', 'get', 'DATABASE_URL', '--token', token])).toBe(`${VALUES.DATABASE_URL}\n`);
    expect(await b.ok(['secrets', 'get', 'REDIS_URL'], { env: { BELLA_TOKEN: token } })).toBe(`${VALUES.REDIS_URL}\n`);

    const pulled = parseDotenv(await b.ok(['pull', '--token', token]));
    expect(pulled).toEqual({ DATABASE_URL: VALUES.DATABASE_URL, REDIS_URL: VALUES.REDIS_URL });
    expect(JSON.parse(await b.ok(['pull', '-o', 'json'], { env: { BELLA_TOKEN: token } }))).toEqual(pulled);

    const run = await b.run([
      'run',
      '--token',
      token,
      '--',
      process.execPath,
      '-e',
      'const e = process.env; console.log(JSON.stringify([e.DATABASE_URL, e.REDIS_URL, e.STRIPE_KEY ?? null, e.BELLA_TOKEN ?? null]))',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([VALUES.DATABASE_URL, VALUES.REDIS_URL, null, null]);
  });

  it('the token is refused STRIPE_KEY with one clear line', async () => {
    const res = await b.run(['secrets', 'get', 'STRIPE_KEY', '--token', token]);
    expect(res.code).toBe(1);
    expect(oneErrorLine(res)).toMatch(/STRIPE_KEY/);
    expect(res.stdout).toBe('');
    expect(res.stderr).not.toContain(VALUES.STRIPE_KEY);
  });

  it('bella leases list --project my-api --environment production shows the lease', async () => {
    const res = await b.shell(LIST);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(leaseId);
    expect(res.stdout).toContain('DATABASE_URL,REDIS_URL');
    expect(res.stdout).toContain('Contractor onboarding - Jane Doe');
    expect(res.stdout).toContain('active');
  });

  it('bella audit list shows the issue with its reason', async () => {
    const table = await b.ok(['audit', 'list']);
    const line = table.split('\n').find((l) => l.includes('LeaseIssued'));
    expect(line).toContain(leaseId);
    expect(line).toContain('Contractor onboarding - Jane Doe');
    const { entries } = await b.json<{ entries: { event: string; leaseId?: string; reason?: string }[] }>([
      'audit',
      'list',
      '--event',
      'LeaseIssued',
    ]);
    expect(entries).toEqual([
      expect.objectContaining({ event: 'LeaseIssued', leaseId, reason: 'Contractor onboarding - Jane Doe' }),
    ]);
  });

  it('bella environments set-lease-policy … as written', async () => {
    const res = await b.shell(SET_POLICY);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('ttl 24h');
    const { policy } = await b.json<{ policy: unknown }>([
      'environments',
      'get-lease-policy',
      '--project',
      'my-api',
      '--environment',
      'production',
    ]);
    expect(policy).toEqual({ ttlSeconds: 86400, warnBeforeSeconds: 7200 });
  });

  it('bella leases revoke <lease-id>: the very next request is refused', async () => {
    const res = await b.shell(`bella leases revoke ${leaseId}`);
    expect(res.code, res.stderr).toBe(0);
    const refused = await b.run(['pull', '--token', token]);
    expect(refused.code).toBe(1);
    expect(oneErrorLine(refused)).toMatch(/revoked/i);
    expect(refused.stdout).toBe('');
  });

  it('bella leases expire-all … as written: every lease of the environment refused', async () => {
    const second = (await b.ok(['issue', '-p', 'my-api', '-e', 'production', '--scope', 'STRIPE_KEY'])).trim();
    expect(await b.ok(['secrets', 'get', 'STRIPE_KEY', '--token', second])).toBe(`${VALUES.STRIPE_KEY}\n`);
    const res = await b.shell(EXPIRE_ALL);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/revoked 1 active lease/i);
    const refused = await b.run(['secrets', 'get', 'STRIPE_KEY', '--token', second]);
    expect(refused.code).toBe(1);
    oneErrorLine(refused);
    // The owner still reads every value after the rotation re-encrypted them.
    const all = parseDotenv(await b.ok(['pull', '-p', 'my-api', '-e', 'production']));
    expect(all).toEqual(VALUES);
  });
});

describe('bella issue (product page: "Relationship to bella issue")', { timeout: 120_000 }, () => {
  let b: BellaSandbox;
  beforeAll(async () => {
    b = new BellaSandbox();
    await b.ok(['projects', 'create', '--name', 'Shop', '--slug', 'shop']);
    await b.ok(['environments', 'create', '--project', 'shop', '--name', 'Production', '--slug', 'production']);
    await b.ok(['context', 'init'], { cwd: b.workDir });
    await b.ok(['secrets', 'set', 'stripe', 'sk_test_refunds-91c2']);
    await b.ok(['secrets', 'set', 'payment', 'pay-token-33d1']);
    await b.ok(['secrets', 'set', 'unrelated', 'nope-0000']);
  }, 120_000);
  afterAll(() => b?.stop(), 60_000);

  it('context init wrote .bella for the only project and environment', () => {
    expect(JSON.parse(fs.readFileSync(path.join(b.workDir, '.bella'), 'utf8'))).toEqual({
      project: 'shop',
      environment: 'production',
    });
  });

  it('bella issue --scope stripe,payment --ttl 30 --reason "Refund agent" works as written', async () => {
    const res = await b.shell('bella issue --scope stripe,payment --ttl 30 --reason "Refund agent"');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^bax-\S+\n$/);
    const id = /lease ([a-z0-9]{16})/.exec(res.stderr)?.[1] ?? '';
    const { lease } = await b.json<{ lease: { issuedAt: string; expiresAt: string; reason: string; scope: string[] } }>(
      ['leases', 'show', id],
    );
    expect(Date.parse(lease.expiresAt) - Date.parse(lease.issuedAt)).toBe(30 * 60_000);
    expect(lease.reason).toBe('Refund agent');
    expect(lease.scope).toEqual(['stripe', 'payment']);
  });

  it('$(bella issue …) captures only the token, which reads the two keys', async () => {
    const res = await b.shell(
      [
        'TOKEN=$(bella issue --scope stripe,payment --ttl 30 --reason "Refund agent") || exit 9',
        'printf "%s" "$TOKEN" > captured',
        'bella run --token "$TOKEN" -- sh -c \'printf "%s|%s|%s" "$stripe" "$payment" "${unrelated:-absent}"\'',
      ].join('\n'),
    );
    expect(res.code, res.stderr).toBe(0);
    expect(fs.readFileSync(path.join(b.workDir, 'captured'), 'utf8')).toMatch(/^bax-[A-Za-z0-9_-]+$/);
    expect(res.stdout).toBe('sk_test_refunds-91c2|pay-token-33d1|absent');
  });

  it('defaults: 15 minutes and reason cli-issued-token; -p/-e override .bella', async () => {
    const res = await b.run(['--json', 'issue', '--scope', 'stripe']);
    const issued = JSON.parse(res.stdout) as { lease: { issuedAt: string; expiresAt: string; reason: string } };
    expect(Date.parse(issued.lease.expiresAt) - Date.parse(issued.lease.issuedAt)).toBe(15 * 60_000);
    expect(issued.lease.reason).toBe('cli-issued-token');
    const other = await b.run(['issue', '--scope', 'stripe', '-p', 'shop', '-e', 'staging']);
    expect(other.code).toBe(1);
    expect(oneErrorLine(other)).toMatch(/staging/);
  });

  it('without .bella or -p/-e it says how to fix it', async () => {
    const res = await b.run(['issue', '--scope', 'stripe'], { cwd: '/' });
    expect(res.code).toBe(2);
    expect(oneErrorLine(res)).toContain('bella context init');
  });
});
