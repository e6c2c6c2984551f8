import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeNotifier } from '../../test/helpers/notifier';
import { Store, type StoredLease } from '../store';
import { EventBus } from './events';
import { createServices } from './index';
import { MAX_POINTS_PER_COMMIT } from './lease-lifecycle';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function world(start = Date.parse('2026-11-28T12:00:00Z')) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-expiry-'));
  dirs.push(home);
  let now = start;
  const clock = () => now;
  const store = await Store.open(home, { time: { wall: clock, monotonic: clock } });
  const sent: string[] = [];
  const events = new EventBus();
  const services = createServices({ store, events, log: () => undefined }, fakeNotifier(sent), {
    retentionMs: 30 * 86400_000,
    backupsKept: 7,
  });
  await services.projects.createProject({ slug: 'my-api', name: 'My API' });
  await services.projects.createEnvironment({ project: 'my-api', slug: 'production', name: 'Production' });
  await services.secrets.set({ project: 'my-api', environment: 'production', key: 'DATABASE_URL', value: 'x' });
  return { services, store, sent, events, advance: (ms: number) => (now += ms), now: () => now };
}

describe('LeaseLifecycle', () => {
  it('keeps a scope’s keys once each, in order, and tells a listener of the issue (none is needed)', async () => {
    const { services, store, events } = await world();
    await services.secrets.set({ project: 'my-api', environment: 'production', key: 'API_KEY', value: 'y' });
    // No listener yet: the issue is made and committed all the same.
    const first = await services.leases.issue({
      project: 'my-api',
      environment: 'production',
      scope: ['API_KEY', 'DATABASE_URL', 'API_KEY'],
      reason: 'r',
    });
    expect(first.lease.scope).toEqual(['API_KEY', 'DATABASE_URL']);
    expect(store.state.leases.get(first.lease.id)?.scope).toEqual(['API_KEY', 'DATABASE_URL']);
    const heard: unknown[] = [];
    const off = events.on((event) => heard.push(event));
    const scope = ['DATABASE_URL', 'API_KEY'];
    const second = await services.leases.issue({ project: 'my-api', environment: 'production', scope, reason: 'r' });
    off();
    expect(second.lease.scope).toEqual(scope);
    expect(second.lease.scope).not.toBe(scope);
    expect(heard).toEqual([
      {
        type: 'LeaseIssued',
        at: second.lease.issuedAt,
        project: 'my-api',
        environment: 'production',
        leaseIds: [second.lease.id],
        expiresAt: second.lease.expiresAt,
      },
    ]);
    services.lifecycle.stop();
  });

  it('schedules the warn point, then the expiry point, of a policy lease', async () => {
    const { services } = await world();
    await services.projects.setPolicy({
      project: 'my-api',
      environment: 'production',
      ttlSeconds: 24 * 3600,
      warnBeforeSeconds: 2 * 3600,
    });
    const { lease } = await services.leases.issue({
      project: 'my-api',
      environment: 'production',
      scope: ['DATABASE_URL'],
      reason: 'r',
    });
    const next = services.lifecycle.nextPoint();
    expect(next).toMatchObject({ id: lease.id, value: 'warn', at: Date.parse(lease.expiresAt) - 2 * 3600_000 });
    services.lifecycle.stop();
  });

  it('does not warn about a lease whose ttl is shorter than warn-before', async () => {
    const { services } = await world();
    await services.projects.setPolicy({
      project: 'my-api',
      environment: 'production',
      ttlSeconds: 3600,
      warnBeforeSeconds: 1800,
    });
    const { lease } = await services.leases.issue({
      project: 'my-api',
      environment: 'production',
      scope: ['DATABASE_URL'],
      ttlSeconds: 600,
      reason: 'short',
    });
    expect(services.lifecycle.nextPoint()).toMatchObject({ id: lease.id, value: 'expire' });
    services.lifecycle.stop();
  });

  it('follows the leases when a compaction renumbers the table rows', async () => {
    const { services, store, advance } = await world();
    const issue = (ttlSeconds: number) =>
      services.leases.issue({
        project: 'my-api',
        environment: 'production',
        scope: ['DATABASE_URL'],
        ttlSeconds,
        reason: 'r',
      });
    const { lease: gone } = await issue(3600);
    const { lease: first } = await issue(200 * 86400);
    const { lease: second } = await issue(300 * 86400);
    await services.leases.revoke({ id: gone.id });
    advance(31 * 86400_000);
    // The revoked lease leaves the table; the backup's compaction packs the rows (all move up one).
    expect(await services.maintenance.archiveEnded()).toBe('1 ended leases archived');
    const rowBefore = store.state.leases.rowOf(first.id);
    await store.backup(7);
    expect(store.state.leases.rowOf(first.id)).toBe(rowBefore - 1);
    expect(services.lifecycle.nextPoint()).toEqual({
      id: first.id,
      at: Date.parse(first.expiresAt),
      value: 'expire',
    });
    expect(services.lifecycle.scheduler.size).toBe(2);
    await services.leases.revoke({ id: first.id });
    expect(services.lifecycle.nextPoint()).toMatchObject({ id: second.id, at: Date.parse(second.expiresAt) });
    services.lifecycle.stop();
  });

  it('ends a burst of expiries at one instant in commits of at most MAX_POINTS_PER_COMMIT leases, each announced', async () => {
    const { services, events, advance } = await world();
    const count = 2 * MAX_POINTS_PER_COMMIT + 100;
    const issued = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        services.leases.issue({
          project: 'my-api',
          environment: 'production',
          scope: ['DATABASE_URL'],
          ttlSeconds: 1,
          reason: `burst ${i}`,
        }),
      ),
    );
    const announced: string[][] = [];
    const off = events.on((event) => {
      if (event.type === 'LeaseExpired') announced.push(event.leaseIds ?? []);
    });
    // The timer was armed for 1 s from now; when it fires, the clock is past every expiry.
    advance(2_000);
    for (let i = 0; i < 200 && announced.flat().length < count; i++) await new Promise((r) => setTimeout(r, 25));
    off();
    expect(announced.map((ids) => ids.length)).toEqual([MAX_POINTS_PER_COMMIT, MAX_POINTS_PER_COMMIT, 100]);
    expect(new Set(announced.flat())).toEqual(new Set(issued.map((i) => i.lease.id)));
    expect((await services.leases.list({})).total).toBe(0);
    services.lifecycle.stop();
  });

  it('at start, ends what expired while stopped, warns what is inside its window and schedules the rest', async () => {
    const start = Date.parse('2026-11-28T12:00:00Z');
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-expiry-'));
    dirs.push(home);
    let now = start;
    const time = { wall: () => now, monotonic: () => now };
    const open = async () => {
      const store = await Store.open(home, { time });
      const sent: string[] = [];
      const services = createServices({ store, events: new EventBus(), log: () => undefined }, fakeNotifier(sent), {
        retentionMs: 30 * 86400_000,
        backupsKept: 7,
      });
      return { store, services, sent };
    };
    const before = await open();
    const { projects, leases } = before.services;
    await projects.createProject({ slug: 'my-api', name: 'My API' });
    for (const slug of ['production', 'staging']) {
      await projects.createEnvironment({ project: 'my-api', slug, name: slug });
      await before.services.secrets.set({ project: 'my-api', environment: slug, key: 'K', value: 'x' });
    }
    await projects.setPolicy({
      project: 'my-api',
      environment: 'production',
      ttlSeconds: 24 * 3600,
      warnBeforeSeconds: 2 * 3600,
    });
    const issue = async (environment: string, ttlSeconds: number) =>
      (await leases.issue({ project: 'my-api', environment, scope: ['K'], ttlSeconds, reason: 'r' })).lease;
    const shorterThanWindow = await issue('production', 3600);
    const warnedLater = await issue('production', 24 * 3600);
    const insideWindow = await issue('production', 3 * 3600);
    const noPolicy = await issue('staging', 1800);
    const farOff = await issue('staging', 7 * 86400);
    before.services.lifecycle.stop();
    await before.store.close();

    now += 90 * 60_000;
    const after = await open();
    expect(await after.services.lifecycle.start()).toEqual({ expired: 2, expiringSoon: 1 });
    const statusOf = (id: string) => after.store.state.leases.get(id)!.status;
    expect([shorterThanWindow, noPolicy].map((l) => statusOf(l.id))).toEqual(['expired', 'expired']);
    expect([warnedLater, insideWindow, farOff].map((l) => statusOf(l.id))).toEqual(['active', 'active', 'active']);
    const warned = after.store.state.leases.get(insideWindow.id)!;
    expect(warned.warnedFor).toBe(warned.expiresAt);
    expect(after.services.lifecycle.scheduler.size).toBe(3);
    expect(after.services.lifecycle.nextPoint()).toEqual({
      id: insideWindow.id,
      at: Date.parse(insideWindow.expiresAt),
      value: 'expire',
    });
    expect(after.sent).toHaveLength(1);
    after.services.lifecycle.stop();
    await after.store.close();
  });

  it('holds one pending timer for 100,000 active leases', async () => {
    const { services, store, now } = await world();
    const base = store.state.leases;
    for (let i = 0; i < 100_000; i++) {
      const lease: StoredLease = {
        id: `l${String(i).padStart(15, '0')}`,
        project: 'my-api',
        environment: 'production',
        scope: ['DATABASE_URL'],
        reason: 'bulk',
        issuedAt: now(),
        expiresAt: now() + 60_000 + i,
        ttlSeconds: 60,
        status: 'active',
        renewals: 0,
        renewedAt: null,
        lastUsedAt: null,
        endedAt: null,
        endReason: null,
        tokenHash: 'x',
        epoch: 1,
        warnedFor: null,
        uses: 0,
      };
      base.set(lease.id, lease);
      services.lifecycle.scheduler.schedule(base.rowOf(lease.id), lease.expiresAt, 'expire');
    }
    expect(services.lifecycle.scheduler.size).toBe(100_000);
    expect(services.lifecycle.scheduler.pendingTimers()).toBe(1);
    services.lifecycle.stop();
  });
});

describe('Maintenance', () => {
  it('moves ended leases past retention to the archive, still listed with --all', async () => {
    const { services, store, advance } = await world();
    const issue = () =>
      services.leases.issue({ project: 'my-api', environment: 'production', scope: ['DATABASE_URL'], reason: 'r' });
    const { lease: old } = await issue();
    await services.leases.revoke({ id: old.id });
    advance(31 * 86400_000);
    const { lease: live } = await issue();
    expect(await services.maintenance.archiveEnded()).toBe('1 ended leases archived');
    expect([...store.state.leases.keys()]).toEqual([live.id]);
    const all = await services.leases.list({ all: true });
    expect(all.leases.map((l) => [l.id, l.status])).toEqual([
      [live.id, 'active'],
      [old.id, 'revoked'],
    ]);
    expect((await services.leases.list({})).leases.map((l) => l.id)).toEqual([live.id]);
    expect(await services.maintenance.archiveEnded()).toBe('nothing to archive');
    services.lifecycle.stop();
  });
});
