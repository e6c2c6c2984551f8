import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isBellaError } from '../api';
import { fakeNotifier } from '../../test/helpers/notifier';
import { Store } from '../store';
import { EventBus } from './events';
import { createServices } from './index';

// The keep rules of secret history and trash against a real store in a temp dir, with the
// store's clock set by the test (days pass without waiting).

const DAY = 86_400_000;
const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function world() {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-history-'));
  dirs.push(home);
  let now = Date.parse('2026-11-28T12:00:00Z');
  const clock = () => now;
  const store = await Store.open(home, { time: { wall: clock, monotonic: clock } });
  stores.push(store);
  const services = createServices({ store, events: new EventBus(), log: () => undefined }, fakeNotifier([]), {
    retentionMs: 30 * DAY,
    backupsKept: 7,
  });
  const ref = { project: 'app', environment: 'prod' };
  await services.projects.createProject({ slug: 'app', name: 'App' });
  await services.projects.createEnvironment({ project: 'app', slug: 'prod', name: 'Prod' });
  const set = (key: string, value: string) => services.secrets.set({ ...ref, key, value });
  const versions = async (key: string) =>
    (await services.history.history({ ...ref, key, reveal: true })).versions.map((v) => [v.version, v.value]);
  return { store, services, ref, set, versions, pass: (ms: number) => (now += ms) };
}

describe('secret history keep rules', () => {
  it('keeps the last 20 versions however old, and every version replaced in the last 90 days', async () => {
    const { services, set, versions, pass } = await world();
    for (let i = 1; i <= 30; i++) {
      await set('K', `v${i}`);
      pass(DAY);
    }
    // 30 values, all replaced within 90 days: all kept.
    expect((await versions('K')).length).toBe(30);
    pass(100 * DAY);
    const out = await services.maintenance.dropExpiredHistory();
    expect(out).toContain('9 earlier versions dropped');
    const kept = await versions('K');
    // The live one and the 20 newest earlier ones; numbers stay as they were.
    expect(kept.length).toBe(21);
    expect(kept[0]).toEqual([30, 'v30']);
    expect(kept.at(-1)).toEqual([10, 'v10']);
    // A rollback to a dropped version names what is kept.
    const refused = await services.history
      .rollback({ project: 'app', environment: 'prod', key: 'K', to: 3 })
      .catch((e: unknown) => e);
    expect(isBellaError(refused) && refused.message).toContain('version 3 of K is no longer kept: versions 10–30 are');
  });

  it('keeps at most 1000 versions of one secret, however young', async () => {
    const { set, versions } = await world();
    for (let i = 1; i <= 1003; i++) await set('BUSY', `v${i}`);
    const kept = await versions('BUSY');
    expect(kept.length).toBe(1001);
    expect(kept.at(-1)).toEqual([3, 'v3']);
  });

  it('the daemon drops a secret from the trash after 30 days, with its history, audited', async () => {
    const { store, services, ref, set, pass } = await world();
    await set('OLD', 'a');
    await set('OLD', 'b');
    await services.secrets.delete({ ...ref, key: 'OLD' });
    pass(29 * DAY);
    await services.maintenance.dropExpiredHistory();
    expect(services.history.listTrash(ref).trash.map((t) => t.key)).toEqual(['OLD']);
    pass(1 * DAY + 1);
    expect(await services.maintenance.dropExpiredHistory()).toContain('1 secrets purged from the trash');
    expect(services.history.listTrash(ref).trash).toEqual([]);
    expect(store.state.versions.size).toBe(0);
    const entries = store.queryAudit({ event: 'SecretPurged' }, 10).entries;
    expect(entries[0]).toMatchObject({ actor: 'daemon', keys: ['OLD'] });
  });

  it('refuses to roll back a secret a database rotation set, saying why', async () => {
    const { store, services, ref, set } = await world();
    await set('PG_URL', 'postgres://u:old@db/x');
    await set('PG_URL', 'postgres://u:new@db/x');
    // What `bella secrets rotate KEY --db DB` stores: the value marked with its database.
    await store.transact((state, touched) => {
      state.projects.app!.environments.prod!.secrets.PG_URL!.rotatedByDatabase = 'pg-prod';
      touched.secret('app', 'prod', 'PG_URL');
      return { result: null, audit: [] };
    });
    const refused = await services.history.rollback({ ...ref, key: 'PG_URL', to: 1 }).catch((e: unknown) => e);
    expect(isBellaError(refused) && refused.code).toBe('conflict');
    expect(isBellaError(refused) && refused.message).toContain(
      'PG_URL is rotated by database pg-prod: its older values hold passwords the database no longer accepts',
    );
    expect((await services.secrets.get({ ...ref, key: 'PG_URL' })).secret.value).toBe('postgres://u:new@db/x');
  });

  it('deleting an environment takes its history and trash with it', async () => {
    const { store, services, ref, set } = await world();
    await set('A', '1');
    await set('A', '2');
    await set('B', '1');
    await services.secrets.delete({ ...ref, key: 'B' });
    expect(store.state.versions.size).toBe(2);
    expect(store.state.trash.size).toBe(1);
    await services.projects.deleteEnvironment({ ...ref, force: true });
    expect(store.state.versions.size).toBe(0);
    expect(store.state.trash.size).toBe(0);
  });
});
