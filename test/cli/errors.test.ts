import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../daemon/api/errors';
import { BellaSandbox, oneErrorLine, rawRequest } from '../helpers/cli';

describe('bad input gets one clear line and the daemon keeps serving', { timeout: 180_000 }, () => {
  let b: BellaSandbox;
  let pid: number;

  beforeAll(async () => {
    b = new BellaSandbox();
    await b.ok(['projects', 'create', '--name', 'Shop', '--slug', 'shop']);
    await b.ok(['environments', 'create', '-p', 'shop', '--name', 'Dev', '--slug', 'dev']);
    await b.ok(['secrets', 'set', 'stripe', 'sk_dev_x', '-p', 'shop', '-e', 'dev']);
    fs.writeFileSync(path.join(b.workDir, '.bella'), JSON.stringify({ project: 'shop', environment: 'dev' }));
    pid = await b.daemonPid();
  }, 120_000);
  afterAll(() => b?.stop(), 60_000);

  async function stillServing(): Promise<void> {
    expect(await b.daemonPid()).toBe(pid);
    expect(await b.ok(['secrets', 'get', 'stripe'])).toBe('sk_dev_x\n');
  }

  it.each(['abc', '0', '-5', '481'])(
    'bella issue --ttl %s: usage error naming the range, daemon untouched',
    async (ttl) => {
      type Trail = { entries: { seq: number }[] };
      const newest = async () => (await b.json<Trail>(['audit', 'list', '--limit', '1'])).entries[0]?.seq;
      const before = await newest();
      const res = await b.run(['issue', '--scope', 'stripe', '--ttl', ttl, '--reason', 'bad ttl']);
      expect(res.code).toBe(2);
      expect(oneErrorLine(res)).toMatch(/--ttl .*1 to 480/);
      expect(res.stdout).toBe('');
      // Nothing reached the daemon: no new audit entry.
      expect(await newest()).toBe(before);
    },
  );

  it.each([
    [['projects', 'list', '--frobnicate']],
    [['leases', 'issue', '-p', 'shop', '-e', 'dev', '--scope', 'stripe', '--reason', 'x', '--tll', '4h']],
    [['secrets', 'get', 'stripe', '--show-values']],
    [['issue', '--scope', 'stripe', '-x']],
    [['nosuchcommand']],
    [['projects', 'create', '--name', 'No slug']],
  ])('%j: usage error, exit 2', async (argv) => {
    const res = await b.run(argv);
    expect(res.code).toBe(2);
    expect(oneErrorLine(res)).toMatch(/unknown|required|not specified|too many/i);
    expect(res.stdout).toBe('');
  });

  it('unknown project, invalid key, unknown lease: one line, exit 1', async () => {
    const project = await b.run(['environments', 'list', '--project', 'nope']);
    expect(project.code).toBe(1);
    expect(oneErrorLine(project)).toContain('nope');

    const key = await b.run(['secrets', 'set', '1BAD-KEY', 'v']);
    expect(key.code).toBe(1);
    expect(oneErrorLine(key)).toMatch(/key/i);

    const scope = await b.run(['issue', '--scope', 'NOT_THERE']);
    expect(scope.code).toBe(1);
    expect(oneErrorLine(scope)).toContain('stripe'); // lists the keys that exist

    const lease = await b.run(['leases', 'show', 'zzzzzzzzzzzzzzzz']);
    expect(lease.code).toBe(1);
    oneErrorLine(lease);

    const token = await b.run(['pull', '--token', 'bax-not-a-real-token']);
    expect(token.code).toBe(2);
    expect(oneErrorLine(token)).toContain('malformed token');

    // Outside the .bella directory there is neither a token nor an environment to run as the owner.
    const run = await b.run(['run', '--', 'true'], { cwd: '/' });
    expect(run.code).toBe(2);
    expect(oneErrorLine(run)).toContain('BELLA_TOKEN');

    for (const res of [project, key, scope, lease, token, run]) expect(res.stderr).not.toMatch(/\n\s+at /);
    await stillServing();
  });

  it('malformed JSON straight to the socket: 400 with code and message', async () => {
    const res = await rawRequest(b.socket, {
      method: 'POST',
      path: '/v1/projects',
      headers: { 'content-type': 'application/json' },
      body: '{"slug": "x", "name":',
    });
    expect(res.status).toBe(400);
    const body = JSON.parse(res.body) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('invalid_argument');
    expect(body.error.message.length).toBeGreaterThan(0);
    await stillServing();
  });

  it('a 10 MB body straight to the socket: 4xx with code and message', async () => {
    const big = JSON.stringify({ slug: 'big', name: 'x'.repeat(10 * 1024 * 1024) });
    const res = await rawRequest(b.socket, {
      method: 'POST',
      path: '/v1/projects',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    const body = JSON.parse(res.body) as { error: { code: string; message: string } };
    expect(ERROR_CODES).toContain(body.error.code);
    expect(body.error.message.length).toBeGreaterThan(0);
    await stillServing();
    const { projects } = await b.json<{ projects: { slug: string }[] }>(['projects', 'list']);
    expect(projects.map((p) => p.slug)).toEqual(['shop']);
  });

  it('14. bella daemon run beside a running daemon: its refusal with its code, no "bug" label', async () => {
    const res = await b.run(['daemon', 'run', '--json']);
    expect(res.code).toBe(1);
    expect(oneErrorLine(res)).toMatch(/^error: a bella daemon \(pid \d+\) is already running for /);
    expect(res.stderr).not.toMatch(/bug/);
    expect(JSON.parse(res.stdout)).toMatchObject({ error: { code: 'conflict' } });
    await stillServing();
  });
});

describe('14. bella daemon run without master.key', { timeout: 120_000 }, () => {
  let b: BellaSandbox;
  beforeAll(() => (b = new BellaSandbox()));
  afterAll(() => b?.stop(), 60_000);

  it('says the key is missing and how to restore it, code unavailable, no "bug" label', async () => {
    await b.ok(['projects', 'create', '--name', 'Shop', '--slug', 'shop']);
    await b.ok(['environments', 'create', '-p', 'shop', '--name', 'Dev', '--slug', 'dev']);
    await b.ok(['secrets', 'set', 'API_KEY', 'v', '-p', 'shop', '-e', 'dev']);
    await b.ok(['daemon', 'stop']);
    const key = path.join(b.home, 'master.key');
    fs.renameSync(key, `${key}.away`);
    const res = await b.run(['daemon', 'run', '--json']);
    expect(res.code).toBe(1);
    expect(oneErrorLine(res)).toContain(`error: the master key ${key} is missing`);
    expect(res.stderr).not.toMatch(/bug/);
    expect(JSON.parse(res.stdout)).toMatchObject({ error: { code: 'unavailable' } });
    fs.renameSync(`${key}.away`, key);
  });
});
