import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredProject } from './schema';
import { dataFiles, Store } from './store';

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

describe('Store', () => {
  it('journals touched records, replays them on open, and folds them into a snapshot', async () => {
    const dir = home();
    const files = dataFiles(dir);
    let store = await Store.open(dir);
    const snapshotBefore = fs.readFileSync(files.state, 'utf8');
    await Promise.all(
      ['a', 'b', 'c'].map((slug) =>
        store.transact((state) => {
          state.projects[slug] = project(slug);
          return { result: null, audit: [], touched: { projects: [slug] } };
        }),
      ),
    );
    await store.transact((state) => {
      delete state.projects.b;
      return { result: null, audit: [], touched: { projects: ['b'] } };
    });
    // Journaled commits leave the snapshot alone.
    expect(fs.readFileSync(files.state, 'utf8')).toBe(snapshotBefore);
    expect(fs.readFileSync(files.journal, 'utf8').trim().split('\n')).toHaveLength(2);
    await store.close();

    store = await Store.open(dir);
    expect(Object.keys(store.state.projects).sort()).toEqual(['a', 'c']);
    // A transaction that does not say what it touched writes a snapshot and empties the journal.
    await store.transact((state) => {
      state.projects.d = project('d');
      return { result: null, audit: [] };
    });
    expect(fs.readFileSync(files.journal, 'utf8')).toBe('');
    await store.close();

    store = await Store.open(dir);
    expect(Object.keys(store.state.projects).sort()).toEqual(['a', 'c', 'd']);
    await store.close();
  });

  it('drops a torn last journal line (never acknowledged) and keeps the rest', async () => {
    const dir = home();
    let store = await Store.open(dir);
    await store.transact((state) => {
      state.projects.a = project('a');
      return { result: null, audit: [], touched: { projects: ['a'] } };
    });
    await store.close();
    fs.appendFileSync(dataFiles(dir).journal, '{"seq":99,"projects":{"b":');
    store = await Store.open(dir);
    expect(Object.keys(store.state.projects)).toEqual(['a']);
    await store.close();
  });

  it('refuses a journal damaged before its last line, naming it', async () => {
    const dir = home();
    const store = await Store.open(dir);
    await store.close();
    fs.writeFileSync(dataFiles(dir).journal, 'garbage\n{"seq":1}\n');
    await expect(Store.open(dir)).rejects.toThrow(/state\.journal is damaged at line 1/);
  });
});

describe('schema migrations', () => {
  it('reads a version 1 state (leases keyed by id) and writes version 2 (leases as an array)', async () => {
    const dir = home();
    let store = await Store.open(dir);
    await store.close();
    const files = dataFiles(dir);
    const lease = { id: 'aaaaaaaaaaaaaaaa', project: 'p', environment: 'e', status: 'active' };
    const v1 = { version: 1, projects: {}, leases: { [lease.id]: lease }, settings: { notifications: {} } };
    fs.writeFileSync(files.state, JSON.stringify(v1));
    store = await Store.open(dir);
    expect(store.state.leases.get(lease.id)).toMatchObject(lease);
    await store.transact(() => ({ result: null, audit: [] }));
    await store.close();
    const written = JSON.parse(fs.readFileSync(files.state, 'utf8')) as { version: number; leases: unknown };
    expect(written.version).toBe(2);
    expect(written.leases).toEqual([lease]);
  });
});
