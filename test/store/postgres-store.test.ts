// Issue 22: the state on PostgreSQL (daemon/store/postgres/store.ts), against a private cluster:
// commits, loading, the fence inside each commit, a failed commit, snapshot rows, the key file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Leadership } from '../../daemon/store/postgres/leadership';
import { PostgresStore } from '../../daemon/store/postgres/store';
import type { StoredProject } from '../../daemon/store/schema';
import { startPostgres, type PgCluster } from '../helpers/postgres';

let pg: PgCluster;
let n = 0;
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(() => pg?.destroy());
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A fresh database and two node homes sharing one key file (the second gets a copy once the first made it). */
function database(): { url: string; home: () => string } {
  const db = `bella_store_${++n}`;
  pg.sql(`CREATE DATABASE ${db}`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-pgstore-'));
  cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));
  let homes = 0;
  return {
    url: pg.url(db),
    home: () => {
      const home = path.join(root, `node${++homes}`);
      fs.mkdirSync(home, { recursive: true, mode: 0o700 });
      const first = path.join(root, 'node1', 'master.key');
      if (homes > 1 && fs.existsSync(first)) fs.copyFileSync(first, path.join(home, 'master.key'));
      return home;
    },
  };
}

async function open(url: string, home: string, compactAfterRows?: number): Promise<PostgresStore> {
  const store = await PostgresStore.open({ connectionString: url, home, compactAfterRows });
  cleanups.push(() => store.close());
  return store;
}

async function activate(store: PostgresStore, url: string): Promise<Leadership> {
  const leadership = await Leadership.acquire({ connectionString: url, node: 'n', url: '', onLost: () => undefined });
  cleanups.push(() => leadership.release());
  await store.activate(leadership.epoch);
  return leadership;
}

const project = (slug: string): StoredProject => ({ slug, name: slug, createdAt: 1, environments: {} });

function addProject(store: PostgresStore, slug: string): Promise<null> {
  return store.transact((state, touched) => {
    state.projects[slug] = project(slug);
    touched.project(slug);
    return { result: null, audit: [{ event: 'ProjectCreated', outcome: 'Success', actor: 'owner', project: slug }] };
  });
}

describe('PostgresStore', () => {
  it('commits changes with their audit entries, which another node loads, queries and verifies; Postgres sees no plaintext', async () => {
    const { url, home } = database();
    const active = await open(url, home());
    await activate(active, url);
    await Promise.all(['alpha', 'beta', 'gamma'].map((slug) => addProject(active, slug)));
    await active.record([{ event: 'SecretsRead', outcome: 'Success', actor: 'token', project: 'alpha' }]);

    const standby = await open(url, home());
    expect(Object.keys(standby.state.projects).sort()).toEqual(['alpha', 'beta', 'gamma']);
    await expect(addProject(standby, 'delta')).rejects.toThrow(
      'this node is a standby: changes are made on the active node',
    );
    const page = await standby.queryAudit({ project: 'alpha' }, 10);
    expect(page.entries.map((e) => e.event)).toEqual(['SecretsRead', 'ProjectCreated']);
    const first = await standby.queryAudit({}, 2);
    expect(first.entries.map((e) => e.seq)).toEqual([4, 3]);
    const rest = await standby.queryAudit({}, 10, first.nextCursor!);
    expect(rest).toEqual({
      entries: [expect.objectContaining({ seq: 2 }), expect.objectContaining({ seq: 1 })],
      nextCursor: null,
    });
    expect(await standby.verifyAudit()).toMatchObject({
      ok: true,
      entries: 4,
      epochs: [{ epoch: 1, first: 1, last: 4 }],
    });

    const dump = pg.sql("SELECT string_agg(encode(body, 'escape'), '') FROM bella_journal", url.split('/').at(-1)!);
    expect(dump).not.toContain('gamma');
    expect(dump).not.toContain('ProjectCreated');
  });

  it('refuses a commit once another node holds a newer epoch (the fence inside the transaction), writes nothing and steps down', async () => {
    const { url, home } = database();
    const db = url.split('/').at(-1)!;
    const store = await open(url, home());
    await activate(store, url);
    await addProject(store, 'kept');
    const steppedDown: string[] = [];
    store.onStepDown((reason) => steppedDown.push(reason));
    // Another node took over: the epoch moved on (as Leadership.acquire moves it).
    pg.sql('UPDATE bella_leader SET epoch = epoch + 1', db);
    const journal = () => pg.sql('SELECT count(*) FROM bella_journal', db).trim();
    const before = journal();
    await expect(addProject(store, 'late')).rejects.toThrow(
      "this node is no longer active: another node took over at epoch 2 (this node's epoch was 1)",
    );
    expect(steppedDown).toEqual([
      "this node is no longer active: another node took over at epoch 2 (this node's epoch was 1)",
    ]);
    expect(journal()).toBe(before);
    await expect(addProject(store, 'later')).rejects.toThrow('this node is a standby');
    const fresh = await open(url, home());
    expect(Object.keys(fresh.state.projects)).toEqual(['kept']);
  });

  it('a commit Postgres never took is refused and memory is read back; when it cannot be, the node steps down', async () => {
    const { url, home } = database();
    const db = url.split('/').at(-1)!;
    const store = await open(url, home());
    await activate(store, url);
    await addProject(store, 'kept');
    const steppedDown: string[] = [];
    store.onStepDown((reason) => steppedDown.push(reason));
    pg.sql(
      `CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql;
       CREATE TRIGGER refuse BEFORE INSERT ON bella_journal FOR EACH ROW EXECUTE FUNCTION refuse();`,
      db,
    );
    await expect(addProject(store, 'refused')).rejects.toThrow(
      'PostgreSQL refused the commit (refused by the test (SQLSTATE P0001)): retry',
    );
    expect(Object.keys(store.state.projects)).toEqual(['kept']);
    expect(store.problems()).toEqual([expect.stringContaining('the last commit to PostgreSQL failed')]);
    pg.sql('DROP TRIGGER refuse ON bella_journal', db);
    await addProject(store, 'next');
    expect(store.problems()).toEqual([]);
    expect(steppedDown).toEqual([]);
    pg.stop();
    try {
      await expect(addProject(store, 'lost')).rejects.toMatchObject({ code: 'unavailable' });
    } finally {
      pg.start();
    }
    expect(steppedDown).toEqual([expect.stringContaining('could not read the state back from PostgreSQL')]);
    const fresh = await open(url, home());
    expect(Object.keys(fresh.state.projects)).toEqual(['kept', 'next']);
  });

  it('folds journal rows into a snapshot row; a standby that loaded before catches up when it becomes active', async () => {
    const { url, home } = database();
    const db = url.split('/').at(-1)!;
    const first = await open(url, home(), 5);
    const firstTerm = await activate(first, url);
    await addProject(first, 'p0');
    const standby = await open(url, home(), 5);
    for (let i = 1; i <= 12; i++) await addProject(first, `p${i}`);
    expect(Number(pg.sql('SELECT count(*) FROM bella_snapshot', db))).toBe(1);
    expect(Number(pg.sql('SELECT count(*) FROM bella_journal', db))).toBeLessThan(5);
    expect(Number(pg.sql('SELECT count(*) FROM bella_audit', db))).toBe(13);
    await first.close();
    await firstTerm.release();
    expect(Object.keys(standby.state.projects)).toEqual(['p0']);
    await activate(standby, url);
    expect(Object.keys(standby.state.projects)).toHaveLength(13);
    await addProject(standby, 'after');
    expect((await standby.verifyAudit()).ok).toBe(true);
  });

  it('needs the key file every node shares: a missing one is named, another one is refused at the first row', async () => {
    const { url, home } = database();
    const first = await open(url, home());
    await activate(first, url);
    await addProject(first, 'sealed');
    const bare = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-pgstore-bare-'));
    cleanups.push(() => fs.rmSync(bare, { recursive: true, force: true }));
    await expect(PostgresStore.open({ connectionString: url, home: bare })).rejects.toThrow(
      "master.key is missing and PostgreSQL already holds bella's state: copy master.key from the data directory of the node that created it",
    );
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-pgstore-other-'));
    cleanups.push(() => fs.rmSync(other, { recursive: true, force: true }));
    fs.writeFileSync(path.join(other, 'master.key'), Buffer.alloc(32, 7).toString('base64') + '\n', { mode: 0o600 });
    await expect(PostgresStore.open({ connectionString: url, home: other })).rejects.toThrow(
      'does not open with this key file: it was edited, moved, or the nodes do not share one key file',
    );
  });
});
