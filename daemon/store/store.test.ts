import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BellaError } from '../api';
import type { StoredProject } from './schema';
import { dataFiles } from './data-files';
import { Store } from './store';
import { killWithout } from '../../test/helpers/store';
import { SafeClock, type TimeSource } from './clock';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function home(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-store-'));
  dirs.push(dir);
  return dir;
}

const project = (slug: string): StoredProject => ({ slug, name: slug, createdAt: 1, environments: {} });

async function addProject(store: Store, slug: string): Promise<void> {
  await store.transact((state, touched) => {
    state.projects[slug] = project(slug);
    touched.project(slug);
    return { result: null, audit: [{ event: 'ProjectCreated', outcome: 'Success', actor: 'owner', project: slug }] };
  });
}

describe('Store', () => {
  it('journals what each transaction touched, replays it on open, and folds it into a snapshot at a clean close', async () => {
    const dir = home();
    const files = dataFiles(dir);
    let store = await Store.open(dir);
    const snapshotBefore = fs.readFileSync(files.snapshot);
    await Promise.all(['a', 'b', 'c'].map((slug) => addProject(store, slug)));
    await store.transact((state, touched) => {
      delete state.projects.b;
      touched.project('b');
      return { result: null, audit: [] };
    });
    // Journaled commits leave the snapshot alone; concurrent transactions share commits.
    expect(fs.readFileSync(files.snapshot).equals(snapshotBefore)).toBe(true);
    const commits = fs.readFileSync(files.journal, 'utf8').trim().split('\n').length - 1;
    expect(commits).toBeGreaterThanOrEqual(2);
    expect(commits).toBeLessThanOrEqual(4);
    await store.close();
    expect(fs.readFileSync(files.journal, 'utf8').trim().split('\n')).toHaveLength(1);

    store = await Store.open(dir);
    expect(Object.keys(store.state.projects).sort()).toEqual(['a', 'c']);
    const entries = store.queryAudit({}, 10).entries;
    expect(entries.map((e) => e.project)).toEqual(['c', 'b', 'a']);
    await store.close();
  });

  it('backs up by copying a snapshot that holds every commit, folding the journal into it first if needed', async () => {
    const dir = home();
    const files = dataFiles(dir);
    let store = await Store.open(dir);
    await addProject(store, 'a');
    await store.close();
    store = await Store.open(dir);
    // A clean start: the snapshot holds every commit, so the backup is a copy of it.
    const copied = await store.backup();
    expect(fs.readFileSync(copied).equals(fs.readFileSync(files.snapshot))).toBe(true);
    await addProject(store, 'b');
    const folded = await store.backup(10, new Date(Date.now() + 1000));
    // The journal went into a new snapshot, and the backup is that snapshot.
    expect(fs.readFileSync(files.journal, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(fs.readFileSync(folded).equals(fs.readFileSync(files.snapshot))).toBe(true);
    await store.close();
    const restored = home();
    fs.copyFileSync(folded, path.join(restored, 'state.snapshot'));
    fs.copyFileSync(files.masterKey, path.join(restored, 'master.key'));
    fs.cpSync(path.join(dir, 'audit'), path.join(restored, 'audit'), { recursive: true });
    const reopened = await Store.open(restored);
    expect(Object.keys(reopened.state.projects).sort()).toEqual(['a', 'b']);
    await reopened.close();
  });

  it('a transaction that throws changes nothing and commits nothing', async () => {
    const store = await Store.open(home());
    await expect(
      store.transact(() => {
        throw new BellaError('conflict', 'no');
      }),
    ).rejects.toThrow('no');
    expect(store.auditHead.seq).toBe(0);
    await store.close();
  });

  it('completes, at open, the audit entries of a commit that reached the journal but not the trail', async () => {
    const dir = home();
    let store = await Store.open(dir);
    await addProject(store, 'a');
    await addProject(store, 'b');
    const head = store.auditHead;
    // A crash between the two writes: the trail lacks the newest entry, the journal has it.
    killWithout(store);
    const segment = path.join(dataFiles(dir).audit, '000000000001.log');
    const lines = fs.readFileSync(segment, 'utf8').split('\n');
    fs.writeFileSync(segment, lines.slice(0, -2).join('\n') + '\n');
    store = await Store.open(dir);
    expect(store.auditHead).toEqual(head);
    expect((await store.verifyAudit()).ok).toBe(true);
    expect(store.problems()).toEqual([]);
    await store.close();
  });

  it('completes, at open, the entries of the last two commits (a crash while the trail of one was synced with the journal of the next)', async () => {
    const dir = home();
    let store = await Store.open(dir);
    for (const slug of ['a', 'b', 'c']) await addProject(store, slug);
    const head = store.auditHead;
    killWithout(store);
    const segment = path.join(dataFiles(dir).audit, '000000000001.log');
    const lines = fs.readFileSync(segment, 'utf8').split('\n');
    fs.writeFileSync(segment, lines.slice(0, -3).join('\n') + '\n');
    store = await Store.open(dir);
    expect(store.auditHead).toEqual(head);
    expect((await store.verifyAudit()).ok).toBe(true);
    expect(store.problems()).toEqual([]);
    await store.close();
  });

  it('records entries found missing from the trail at open, and verify names them', async () => {
    const dir = home();
    let store = await Store.open(dir);
    for (const slug of ['a', 'b', 'c', 'd']) await addProject(store, slug);
    killWithout(store);
    const segment = path.join(dataFiles(dir).audit, '000000000001.log');
    const lines = fs.readFileSync(segment, 'utf8').split('\n');
    // Three commits' entries: more than a crash can keep from the trail.
    fs.writeFileSync(segment, lines.slice(0, -4).join('\n') + '\n');
    store = await Store.open(dir);
    expect(store.problems().join(' ')).toMatch(/entries 2–4 are missing/);
    const verify = await store.verifyAudit();
    expect(verify.ok).toBe(false);
    expect(verify.firstBroken?.reason).toMatch(/entries 2–4 are missing/);
    await store.close();
  });

  it('refuses to open when the trail records a commit the journal lost', async () => {
    const dir = home();
    const store = await Store.open(dir);
    await addProject(store, 'a');
    await addProject(store, 'b');
    killWithout(store);
    const journal = dataFiles(dir).journal;
    const lines = fs.readFileSync(journal, 'utf8').split('\n');
    fs.writeFileSync(journal, lines.slice(0, -2).join('\n') + '\n');
    await expect(Store.open(dir)).rejects.toThrow(/audit trail records commit 2 .*--accept-rollback/);
  });

  it('puts memory back to what is on disk when a commit cannot be written', async () => {
    const dir = home();
    const store = await Store.open(dir);
    await addProject(store, 'a');
    // Replace the journal under the store: its next write must be refused, and nothing kept.
    const journal = dataFiles(dir).journal;
    fs.renameSync(journal, `${journal}.old`);
    fs.copyFileSync(`${journal}.old`, journal);
    await expect(addProject(store, 'b')).rejects.toThrow(/replaced/);
    expect(Object.keys(store.state.projects)).toEqual(['a']);
    expect(store.problems().join(' ')).toMatch(/replaced/);
  });

  it('answers a transaction that changes nothing only once the changes it saw are on disk', async () => {
    const store = await Store.open(home());
    const order: string[] = [];
    // `b` finds the project `a` added (as a revoke finds a lease expire-all ended) and writes nothing.
    const a = addProject(store, 'a').then(() => order.push('a committed'));
    const b = store
      .transact((state) => ({ result: Boolean(state.projects.a), audit: [] }))
      .then((found) => order.push(`b answered (found: ${found})`));
    await Promise.all([a, b]);
    expect(order).toEqual(['a committed', 'b answered (found: true)']);
    await store.close();
  });

  it('refuses a transaction that changes nothing when the change it saw could not be written', async () => {
    const dir = home();
    const store = await Store.open(dir);
    await addProject(store, 'a');
    // `x` is being written; the journal is replaced meanwhile, so `x` went to a file no reader sees
    // and is refused, and `b`, queued behind it, fails too.
    const x = addProject(store, 'x');
    const journal = dataFiles(dir).journal;
    fs.renameSync(journal, `${journal}.old`);
    fs.copyFileSync(`${journal}.old`, journal);
    const b = addProject(store, 'b');
    const sawB = store.transact((state) => ({ result: Boolean(state.projects.b), audit: [] }));
    await expect(x).rejects.toThrow(/replaced/);
    await expect(b).rejects.toThrow(/replaced|earlier change could not be written/);
    await expect(sawB).rejects.toThrow(/earlier change could not be written/);
    expect(store.state.projects.b).toBeUndefined();
  });
});

describe('SafeClock', () => {
  function fake(): TimeSource & { wallAt: number; monoAt: number } {
    const t = { wallAt: 1_000_000, monoAt: 0, wall: () => t.wallAt, monotonic: () => t.monoAt };
    return t;
  }

  it('never goes below the persisted mark or an earlier answer, and follows the monotonic clock back-steps', () => {
    const t = fake();
    const clock = new SafeClock(2_000_000, t);
    expect(clock.now()).toBe(2_000_000);
    t.monoAt += 1000;
    t.wallAt = 500; // the wall clock stepped far back
    expect(clock.now()).toBe(2_001_000);
    t.monoAt += 1000;
    expect(clock.now()).toBe(2_002_000);
  });

  it('follows a forward step of the wall clock', () => {
    const t = fake();
    const clock = new SafeClock(0, t);
    t.wallAt += 3_600_000;
    expect(clock.now()).toBe(1_000_000 + 3_600_000);
  });
});
