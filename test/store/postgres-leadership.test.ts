import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FencedOut, Leadership, commitPool, fencedCommit, who } from '../../daemon/store/postgres/leadership';
import { waitFor } from '../helpers/cli';
import { sleep } from '../helpers/daemon';
import { startPostgres, type PgCluster } from '../helpers/postgres';

const nodeScript = path.join(path.dirname(new URL(import.meta.url).pathname), 'leader-node.ts');

/** What a node child printed, one JSON object a line. */
type Line = Record<string, unknown>;

/** A bella node on PostgreSQL in a child process, so that a test can kill -9 and SIGSTOP it. */
class NodeProcess {
  readonly lines: Line[] = [];
  private stderr = '';
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(
    readonly name: string,
    connectionString: string,
    idleTimeoutMs: number,
  ) {
    this.child = spawn(
      process.execPath,
      ['--import', 'tsx', nodeScript, JSON.stringify({ connectionString, node: name, idleTimeoutMs })],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let partial = '';
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      for (const part of parts) this.lines.push(JSON.parse(part) as Line);
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    running.add(this);
  }

  /** The first line with `key` printed at or after line `from`, waited for. */
  async line(key: string, from = 0, timeoutMs = 20_000): Promise<Line> {
    return waitFor(
      () => {
        if (this.child.exitCode !== null && !this.lines.slice(from).some((l) => key in l)) {
          throw new Error(`${this.name} exited ${this.child.exitCode}: ${this.stderr}`);
        }
        return this.lines.slice(from).find((l) => key in l);
      },
      `${this.name} to print ${key}`,
      timeoutMs,
    );
  }

  /** Sends a command; the index from which its answer is looked for. */
  send(command: string): number {
    const from = this.lines.length;
    this.child.stdin.write(`${command}\n`);
    return from;
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  async stop(): Promise<void> {
    running.delete(this);
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }
}

const running = new Set<NodeProcess>();

describe('leadership on PostgreSQL: one active node, an epoch fence in every commit', () => {
  let pg: PgCluster;
  let databases = 0;

  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await Promise.all([...running].map((node) => node.stop()));
    pg?.destroy();
  });

  /** A fresh database (advisory locks are per database) with the test table ha_rows. */
  function database(): { url: string; db: string } {
    const db = `ha${++databases}`;
    pg.sql(`CREATE DATABASE ${db}`);
    pg.sql('CREATE TABLE ha_rows (n int, epoch bigint)', db);
    return { url: pg.url(db), db };
  }

  const rows = (db: string, where = 'true') => Number(pg.sql(`SELECT count(*) FROM ha_rows WHERE ${where}`, db).trim());

  /** Leader connections blocked in a lock wait: standbys in `pg_advisory_lock`, or a bump. */
  const waiting = (db: string, query = 'SELECT pg_advisory_lock%') =>
    Number(
      pg
        .sql(
          `SELECT count(*) FROM pg_stat_activity WHERE datname = '${db}' AND application_name = 'bella leader'
           AND wait_event_type = 'Lock' AND query LIKE '${query}'`,
        )
        .trim(),
    );

  /** Node a active at epoch 1 and node b waiting for the lock, in a fresh database. */
  async function activeAndStandby(idleTimeoutMs: number) {
    const { url, db } = database();
    const a = new NodeProcess('a', url, idleTimeoutMs);
    expect((await a.line('active')).active).toBe(1);
    const b = new NodeProcess('b', url, idleTimeoutMs);
    await waitFor(() => waiting(db) === 1, 'b to wait for the lock');
    expect(b.lines.some((l) => 'active' in l)).toBe(false);
    return { url, db, a, b };
  }

  /** Does what ends a's leadership; b is active at epoch 2 next. Logs how long that took (information only). */
  async function takesOver(b: NodeProcess, what: string, act: () => unknown): Promise<void> {
    const startedAt = Date.now();
    await act();
    const active = await b.line('active');
    expect(active.active).toBe(2);
    console.log(`${what} → standby active: ${Number(active.at) - startedAt} ms`);
  }

  it('makes the first node active at epoch 1, and the standby active at epoch 2 once the first is killed -9', async () => {
    const { db, a, b } = await activeAndStandby(3000);
    await a.line('committed', a.send('commit 1'));

    await takesOver(b, 'kill -9', () => a.signal('SIGKILL'));
    await b.line('committed', b.send('commit 2'));
    expect(rows(db)).toBe(2);
    expect(rows(db, 'epoch = 2')).toBe(1);
    await a.stop();
    await b.stop();
  });

  it('takes over from a SIGSTOPped node after the idle timeout, and refuses its commit when it resumes', async () => {
    const { db, a, b } = await activeAndStandby(2000);
    // Its keep-alive queries hold the session past the idle timeout while it runs.
    await sleep(5000);
    await a.line('committed', a.send('commit 1'));
    expect(a.lines.some((l) => 'lost' in l)).toBe(false);
    expect(b.lines.some((l) => 'active' in l)).toBe(false);

    await takesOver(b, 'SIGSTOP (idle timeout 2000 ms)', () => a.signal('SIGSTOP'));
    a.signal('SIGCONT');
    const lost = String((await a.line('lost')).lost);
    console.log(`the resumed node: ${lost}`);
    expect(lost).toMatch(/ended|failed|terminat/);
    const refused = await a.line('fenced', a.send('commit 2'));
    expect(refused.fenced).toMatchObject({ n: 2, current: 2 });
    expect(rows(db, 'epoch = 1')).toBe(1);
    expect(rows(db, 'n = 2')).toBe(0);
    await b.line('committed', b.send('commit 3'));
    expect(rows(db, 'epoch = 2')).toBe(1);
    await a.stop();
    await b.stop();
  });

  it('takes over from a node stopped inside a commit after the idle timeout, and that commit never lands', async () => {
    const { db, a, b } = await activeAndStandby(2000);
    await a.line('holding', a.send('hold 1'));

    await takesOver(b, 'SIGSTOP inside a commit (idle timeout 2000 ms)', () => a.signal('SIGSTOP'));
    a.signal('SIGCONT');
    await a.line('lost');
    expect((await a.line('failed', a.send('go'))).failed).toMatchObject({ n: 1 });
    expect(rows(db)).toBe(0);
    await b.line('committed', b.send('commit 2'));
    expect(rows(db, 'epoch = 2')).toBe(1);
    await a.stop();
    await b.stop();
  });

  it('closes the race: a takeover waits for an old-epoch commit in flight, and a commit begun after it is refused', async () => {
    const { url, db } = database();
    const pool = await commitPool(url, () => undefined);
    let lostReason: string | undefined;
    const a = await Leadership.acquire({
      connectionString: url,
      node: 'a',
      url: 'https://a.test:7443',
      onLost: (reason) => (lostReason = reason),
    });
    expect(a.epoch).toBe(1);

    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    const inFlight = fencedCommit(pool, a.epoch, async (client) => {
      await client.query('INSERT INTO ha_rows (n, epoch) VALUES (1, $1)', [a.epoch]);
      entered();
      await gate;
    });
    await inside;

    // a's session ends (as Postgres ends a silent one) while its commit holds the leader row FOR SHARE.
    pg.sql(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db}' AND application_name = 'bella leader'`,
    );
    await waitFor(() => lostReason, 'a to report lost');
    const takeover = Leadership.acquire({
      connectionString: url,
      node: 'b',
      url: 'https://b.test:7443',
      onLost: () => undefined,
    });
    let tookOver = false;
    void takeover.then(() => (tookOver = true));
    await waitFor(() => waiting(db, 'UPDATE bella_leader%') === 1, "b's epoch bump to wait for the row lock");
    expect(tookOver).toBe(false);
    expect((await who(pool)).epoch).toBe(1);

    finish();
    await inFlight;
    const b = await takeover;
    expect(b.epoch).toBe(2);
    expect(rows(db, 'epoch = 1')).toBe(1);

    const late = fencedCommit(pool, a.epoch, (client) => client.query('INSERT INTO ha_rows (n, epoch) VALUES (2, 1)'));
    await expect(late).rejects.toBeInstanceOf(FencedOut);
    await expect(late).rejects.toMatchObject({ epoch: 1, current: 2, code: 'unavailable' });
    expect(rows(db)).toBe(1);
    expect(await who(pool)).toMatchObject({ epoch: 2, node: 'b', url: 'https://b.test:7443', held: true });
    await b.release();
    expect(await who(pool)).toMatchObject({ epoch: 2, held: false });
    await pool.end();
  });

  it('a standby that stops waiting leaves no session queued for the lock', async () => {
    const { url, db } = database();
    const a = await Leadership.acquire({
      connectionString: url,
      node: 'a',
      url: 'https://a.test:7443',
      onLost: () => undefined,
    });
    const stop = new AbortController();
    const standby = Leadership.acquire({
      connectionString: url,
      node: 'b',
      url: 'https://b.test:7443',
      onLost: () => undefined,
      signal: stop.signal,
    });
    await waitFor(() => waiting(db) === 1, 'b to wait for the lock');
    stop.abort();
    await expect(standby).rejects.toMatchObject({ code: 'unavailable' });
    await waitFor(() => waiting(db) === 0, "b's backend to notice its client is gone");
    await a.release();
    const c = await Leadership.acquire({
      connectionString: url,
      node: 'c',
      url: 'https://c.test:7443',
      onLost: () => undefined,
    });
    expect(c.epoch).toBe(2);
    await c.release();
  });

  it('hands over at once on release(), and the node that released never commits with its epoch again', async () => {
    // An idle timeout far beyond the wait below: only the release can hand over in time.
    const { url, db, a, b } = await activeAndStandby(120_000);

    await takesOver(b, 'release()', () => a.line('released', a.send('release')));
    expect((await a.line('fenced', a.send('commit 1'))).fenced).toMatchObject({ n: 1, current: 2 });
    expect(rows(db)).toBe(0);

    await b.line('released', b.send('release'));
    const pool = await commitPool(url, () => undefined);
    await waitFor(async () => !(await who(pool)).held, 'the lock to be free');
    expect(a.lines.filter((l) => 'active' in l)).toHaveLength(1);
    expect(a.lines.some((l) => 'lost' in l)).toBe(false);
    await pool.end();
    await a.stop();
    await b.stop();
  });
});
