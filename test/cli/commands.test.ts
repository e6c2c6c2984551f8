import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BellaSandbox, collect, oneErrorLine, repoRoot, waitFor } from '../helpers/cli';

describe('bella daemon start|stop|status|run', { timeout: 120_000 }, () => {
  let b: BellaSandbox;
  beforeAll(() => {
    b = new BellaSandbox();
  });
  afterAll(() => b?.stop(), 60_000);

  it('status without a daemon says how to start one; start, start again, stop', async () => {
    const none = await b.run(['daemon', 'status']);
    expect(none.code).toBe(1);
    expect(oneErrorLine(none)).toContain('bella daemon start');

    const first = await b.run(['daemon', 'start']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^bella daemon started \(pid \d+/);
    const second = await b.run(['daemon', 'start']);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/already running/);

    const status = await b.json<{ pid: number; dataDir: string; socket: string; notifications: unknown }>([
      'daemon',
      'status',
    ]);
    expect(status.dataDir).toBe(b.home);
    expect(status.socket).toBe(b.socket);
    // Nothing was sent yet, so nothing is claimed (true/false come once one was sent or tested).
    expect(status.notifications).toEqual({ available: null, problem: null });
    expect(await b.ok(['daemon', 'status'])).toMatch(/notifications/);

    const stop = await b.run(['daemon', 'stop']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toContain(`stopped (pid ${status.pid})`);
    expect(await b.answering()).toBe(false);
    // Stopped means its files are closed: the daemon releases its lock last, after its last writes.
    expect(fs.existsSync(path.join(b.home, 'daemon.pid'))).toBe(false);
    expect((await b.run(['daemon', 'stop'])).stdout).toMatch(/no bella daemon is running/);
  });

  it('any other command starts the daemon when none answers', async () => {
    expect(await b.answering()).toBe(false);
    expect(await b.ok(['projects', 'list'])).toMatch(/no projects yet/);
    expect(await b.answering()).toBe(true);
    await b.ok(['daemon', 'stop']);
  });

  it('daemon run serves in the foreground and stops on SIGTERM', async () => {
    const child = b.spawn(['daemon', 'run']);
    const done = collect(child, undefined, 60_000);
    await waitFor(() => b.answering(), 'the foreground daemon to answer');
    const { pid } = await b.json<{ pid: number }>(['daemon', 'status']);
    expect(pid).toBe(child.pid);
    child.kill('SIGTERM');
    const res = await done;
    expect(res.code, res.stderr).toBe(0);
    expect(await b.answering()).toBe(false);
  });
});

describe('secrets, pull, run, context, audit, notifications', { timeout: 180_000 }, () => {
  let b: BellaSandbox;
  let token: string;
  const awkward = {
    PLAIN: 'plain-value',
    SPACES: '  padded value  ',
    QUOTES: `it's "quoted"`,
    HASH: 'a # b',
    MULTI: 'first line\nsecond line',
    DOLLAR: 'cost=$HOME',
  };

  beforeAll(async () => {
    b = new BellaSandbox();
    await b.ok(['projects', 'create', '--name', 'App', '--slug', 'app']);
    await b.ok(['environments', 'create', '-p', 'app', '--name', 'Dev', '--slug', 'dev']);
    await b.ok(['environments', 'create', '-p', 'app', '--name', 'Prod', '--slug', 'prod']);
    await b.ok(['secrets', 'set', 'SEED', 'seed', '-p', 'app', '-e', 'dev']);
  }, 120_000);
  afterAll(() => b?.stop(), 60_000);

  it('context init refuses to guess between several environments, then writes .bella', async () => {
    const res = await b.run(['context', 'init']);
    expect(res.code).toBe(1);
    expect(oneErrorLine(res)).toMatch(/several environments \(dev, prod\)/);
    const missing = await b.run(['context', 'init', 'app', 'qa']);
    expect(missing.code).toBe(1);
    oneErrorLine(missing);
    await b.ok(['context', 'init', 'app', 'dev']);
    const nested = path.join(b.workDir, 'sub', 'dir');
    fs.mkdirSync(nested, { recursive: true });
    expect(await b.ok(['secrets', 'get', 'SEED'], { cwd: nested })).toBe('seed\n');
  });

  it('secrets set reads stdin (one trailing newline dropped), list masks values unless asked', async () => {
    await b.ok(['secrets', 'set', 'FROM_STDIN'], { input: 'from stdin value\n' });
    expect(await b.ok(['secrets', 'get', 'FROM_STDIN'])).toBe('from stdin value\n');
    const masked = await b.ok(['secrets', 'list']);
    expect(masked).toContain('FROM_STDIN');
    expect(masked).not.toContain('from stdin value');
    expect(await b.ok(['secrets', 'list', '--show-values'])).toContain('from stdin value');
    await b.ok(['secrets', 'delete', 'FROM_STDIN']);
    const gone = await b.run(['secrets', 'get', 'FROM_STDIN']);
    expect(gone.code).toBe(1);
    oneErrorLine(gone);
  });

  it('push FILE --dry-run reports and changes nothing; push adds, updates, leaves unchanged', async () => {
    const dotenvText = [
      '# a comment',
      'PLAIN=plain-value',
      'SPACES="  padded value  "',
      'QUOTES=`it\'s "quoted"`',
      'HASH="a # b"',
      'MULTI="first line\\nsecond line"',
      'DOLLAR=cost=$HOME',
      'SEED=seed',
    ].join('\n');
    expect(parseDotenv(dotenvText)).toEqual({ ...awkward, SEED: 'seed' });
    fs.writeFileSync(path.join(b.workDir, '.env'), dotenvText);
    const dry = await b.json<{ added: string[]; unchanged: string[]; dryRun: boolean }>([
      'secrets',
      'push',
      '.env',
      '--dry-run',
    ]);
    expect(dry.dryRun).toBe(true);
    expect(dry.added.sort()).toEqual(Object.keys(awkward).sort());
    expect(dry.unchanged).toEqual(['SEED']);
    expect((await b.json<{ secrets: unknown[] }>(['secrets', 'list'])).secrets).toHaveLength(1);

    const real = await b.ok(['secrets', 'push', '.env']);
    expect(real).toMatch(/added\s+.*PLAIN/);
    expect(real).toMatch(/unchanged\s+SEED/);
    const values = JSON.parse(await b.ok(['pull', '-o', 'json'])) as Record<string, string>;
    expect(values).toEqual({ ...awkward, SEED: 'seed' });
  });

  it('pull: dotenv, json and yaml round-trip; --out writes a 0600 file', async () => {
    const expected = { ...awkward, SEED: 'seed' };
    // `it's "quoted"` has no dotenv form that dotenv and sh read alike: refused, never written wrong.
    const refused = await b.run(['pull', '-o', 'dotenv']);
    expect(refused.code).toBe(1);
    expect(oneErrorLine(refused)).toMatch(/QUOTES .*-o shell/);
    expect(JSON.parse(await b.ok(['pull', '--json']))).toEqual(expected);
    expect(YAML.parse(await b.ok(['pull', '-o', 'yaml']))).toEqual(expected);
    await b.ok(['secrets', 'delete', 'QUOTES']);
    const { QUOTES: _quotes, ...writable } = expected;
    expect(parseDotenv(await b.ok(['pull']))).toEqual(writable);
    const res = await b.run(['pull', '--out', 'secrets.env']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe('');
    const file = path.join(b.workDir, 'secrets.env');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(parseDotenv(fs.readFileSync(file))).toEqual(writable);
  });

  it('bella run passes the exit code through and maps a signal death to 128+n', async () => {
    token = (await b.ok(['issue', '--scope', 'PLAIN,MULTI', '--reason', 'run test'])).trim();
    const seven = await b.run(['run', '--token', token, '--', process.execPath, '-e', 'process.exit(7)']);
    expect(seven.code).toBe(7);
    const killed = await b.run([
      'run',
      '--token',
      token,
      '--',
      process.execPath,
      '-e',
      "process.kill(process.pid, 'SIGKILL')",
    ]);
    expect(killed.code).toBe(128 + 9);
    const env = await b.run(
      ['run', '--', process.execPath, '-e', 'process.stdout.write(process.env.MULTI + "|" + process.env.PLAIN)'],
      { env: { BELLA_TOKEN: token } },
    );
    expect(env.stdout).toBe(`${awkward.MULTI}|${awkward.PLAIN}`);
    const missing = await b.run(['run', '--token', token, '--', 'no-such-command-xyz']);
    expect(missing.code).toBe(127);
    oneErrorLine(missing);
  });

  it('bella run forwards SIGTERM to the command and exits with its code', async () => {
    const script =
      "process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(42); }); console.log('ready'); setInterval(() => {}, 1000);";
    const child = b.spawn(['run', '--token', token, '--', process.execPath, '-e', script]);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const done = collect(child, undefined, 30_000);
    await waitFor(() => out.includes('ready'), 'the command to start');
    child.kill('SIGTERM');
    const res = await done;
    expect(res.code).toBe(42);
    expect(out).toContain('got SIGTERM');
  });

  it('audit list filters by event, outcome, lease and since, and prints csv', async () => {
    const denied = await b.run(['secrets', 'get', 'SEED', '--token', token]);
    expect(denied.code).toBe(1);
    const leaseId = /^bax-([a-z0-9]{16})-/.exec(token)?.[1] as string;
    type Entries = { entries: { event: string; outcome: string; leaseId?: string; keys?: string[] }[] };
    const byOutcome = await b.json<Entries>(['audit', 'list', '--outcome', 'denied']);
    expect(byOutcome.entries.length).toBeGreaterThan(0);
    expect(byOutcome.entries.every((e) => e.outcome === 'Denied')).toBe(true);
    const byLease = await b.json<Entries>(['audit', 'list', '--lease', leaseId]);
    expect(byLease.entries.every((e) => e.leaseId === leaseId)).toBe(true);
    expect(byLease.entries.map((e) => e.event)).toContain('LeaseIssued');
    const byEvent = await b.json<Entries>(['audit', 'list', '--event', 'SecretsImported', '--since', '1h']);
    expect(byEvent.entries).toHaveLength(1);
    const future = await b.json<Entries>(['audit', 'list', '--since', '2999-01-01T00:00:00Z']);
    expect(future.entries).toEqual([]);
    const csv = await b.ok(['audit', 'list', '-o', 'csv', '--lease', leaseId]);
    expect(csv.split('\r\n')[0]).toBe(
      'seq,ts,event,outcome,actor,project,environment,leaseId,keys,reason,message,source,count,hash',
    );
    expect(csv).toContain('LeaseIssued');
    const bad = await b.run(['audit', 'list', '--since', 'last tuesday']);
    expect(bad.code).toBe(2);
    expect(oneErrorLine(bad)).toContain('--since');
  });

  it('notifications show, set and test', async () => {
    const shown = await b.json<{ settings: { desktop: boolean }; health: { available: boolean } }>([
      'notifications',
      'show',
    ]);
    expect(typeof shown.settings.desktop).toBe('boolean');
    await b.ok(['notifications', 'set', '--desktop', 'off', '-p', 'app', '-e', 'dev']);
    const after = await b.json<{ settings: { environments: Record<string, boolean> } }>(['notifications', 'show']);
    expect(after.settings.environments['app/dev']).toBe(false);
    expect(await b.ok(['notifications', 'show'])).toContain('app/dev: off');
    const test = await b.run(['notifications', 'test']);
    expect([0, 1]).toContain(test.code);
    if (test.code === 1) oneErrorLine(test);
    const half = await b.run(['notifications', 'set', '--desktop', 'on', '-p', 'app']);
    expect(half.code).toBe(2);
  });

  it('expire-all on a TTY asks for the environment slug; without a TTY it proceeds', async () => {
    const leaseOf = async () =>
      (
        await b.ok(['leases', 'issue', '-p', 'app', '-e', 'dev', '--scope', 'SEED', '--ttl', '1h', '--reason', 'tty'])
      ).trim();
    const kept = await leaseOf();
    // script(1) gives the CLI a real terminal on stdin.
    const tty = (answer: string) =>
      b.shell(`script -qec 'bella leases expire-all -p app -e dev' /dev/null`, { input: `${answer}\n` });
    const wrong = await tty('prod');
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('type "dev" to confirm');
    expect(wrong.stdout).toContain('nothing was changed');
    expect(await b.ok(['secrets', 'get', 'SEED', '--token', kept])).toBe('seed\n');
    const right = await tty('dev');
    expect(right.code, right.stdout).toBe(0);
    expect(right.stdout).toMatch(/revoked [1-9]\d* active lease/i);
    expect((await b.run(['secrets', 'get', 'SEED', '--token', kept])).code).toBe(1);

    const piped = await b.run(['leases', 'expire-all', '-p', 'app', '-e', 'prod']);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).toMatch(/revoked 0 active lease/i);
  });
});

describe('deleting', { timeout: 120_000 }, () => {
  let b: BellaSandbox;
  beforeAll(() => {
    b = new BellaSandbox();
  });
  afterAll(() => b?.stop(), 60_000);

  it('environments delete PROJECT/ENV and projects delete --force', async () => {
    await b.ok(['projects', 'create', '--name', 'Tmp', '--slug', 'tmp']);
    await b.ok(['environments', 'create', '-p', 'tmp', '--name', 'A', '--slug', 'a']);
    await b.ok(['environments', 'create', '-p', 'tmp', '--name', 'B', '--slug', 'b']);
    await b.ok(['secrets', 'set', 'K', 'v', '-p', 'tmp', '-e', 'b']);
    expect(await b.ok(['environments', 'delete', 'tmp/a'])).toMatch(/deleted environment/);
    const full = await b.run(['projects', 'delete', 'tmp']);
    expect(full.code).toBe(1);
    expect(oneErrorLine(full)).toMatch(/--force|force/);
    expect(await b.ok(['projects', 'delete', 'tmp', '--force'])).toMatch(/deleted project tmp/);
    expect((await b.json<{ projects: unknown[] }>(['projects', 'list'])).projects).toEqual([]);
  });
});

describe('bin/bella.mjs', () => {
  it('runs the built CLI (npx bella works from the repository root)', async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [path.join(repoRoot, 'bin', 'bella.mjs'), '--help'], (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ),
    );
    expect(out).toContain('Usage: bella');
    expect(out).toContain('leases');
  });
});
