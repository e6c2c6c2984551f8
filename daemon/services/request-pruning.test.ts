import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeNotifier } from '../../test/helpers/notifier';
import { Store, type StoredAccessRequest } from '../store';
import { EventBus } from './events';
import { createServices } from './index';

// The hourly maintenance drops access requests decided (or expired) longer ago than the retention
// (issue 17): the state, and so the snapshot and journal, do not grow with every request ever
// made; the audit trail keeps them.

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const DAY = 86_400_000;

function request(id: string, fields: Partial<StoredAccessRequest>): StoredAccessRequest {
  return {
    id: `req_${id.padEnd(16, '0')}`,
    memberId: 'mem_aaaaaaaaaaaaaaaa',
    requester: `alice (device sha256:${'a'.repeat(64)})`,
    project: 'my-api',
    environment: 'production',
    scope: ['DATABASE_URL'],
    ttlSeconds: 3600,
    reason: `asked ${id}`,
    createdAt: 0,
    windowEndsAt: 0,
    status: 'approved',
    decidedAt: null,
    decidedBy: 'owner',
    decision: null,
    leaseId: null,
    sealedToken: null,
    breakGlass: false,
    reviewedAt: null,
    reviewedBy: null,
    ...fields,
  };
}

describe('Maintenance: decided access requests past retention', () => {
  it('are dropped (their audit entries stay); recent, unreviewed break-glass and still pending ones stay; nothing left to drop writes nothing', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-prune-'));
    dirs.push(home);
    const now = Date.parse('2026-12-02T12:00:00Z');
    const time = { wall: () => now, monotonic: () => now };
    const store = await Store.open(home, { time });
    const { maintenance, lifecycle, audit, requests } = createServices(
      { store, events: new EventBus(), log: () => undefined },
      fakeNotifier([]),
      { retentionMs: 30 * DAY, backupsKept: 7 },
    );
    const old = now - 40 * DAY;
    const all = [
      request('approved', { createdAt: old - 1000, windowEndsAt: old + 3600_000, decidedAt: old }),
      request('denied', { status: 'denied', createdAt: old, windowEndsAt: old + 3600_000, decidedAt: old }),
      request('expired', { status: 'expired', createdAt: old - 3600_000, windowEndsAt: old, decidedBy: null }),
      request('glassreviewed', {
        breakGlass: true,
        decidedAt: old,
        decision: 'break-glass',
        reviewedAt: old + DAY,
        reviewedBy: 'owner',
      }),
      request('recent', { status: 'denied', createdAt: now - 5 * DAY, decidedAt: now - 5 * DAY }),
      request('glassunreviewed', { breakGlass: true, decidedAt: old, decision: 'break-glass' }),
      // Past its window, never recorded expired (bella was down): its expiry is recorded first.
      request('pending', { status: 'pending', createdAt: old - 3600_000, windowEndsAt: old, decidedBy: null }),
    ];
    await store.transact((state, touched) => {
      for (const r of all) {
        state.accessRequests.set(r.id, r);
        touched.record('accessRequest', r.id);
      }
      return {
        result: null,
        audit: all.map((r) => ({
          event: 'AccessRequested' as const,
          outcome: 'Success' as const,
          actor: 'daemon' as const,
          project: r.project,
          environment: r.environment,
          message: `request ${r.id}`,
        })),
      };
    });
    const audited = async () => (await audit.list({ event: 'AccessRequested', limit: 100 })).entries.length;
    expect(await audited()).toBe(7);

    expect(await maintenance.dropDecidedRequests()).toBe('4 decided access requests dropped');
    const kept = ['req_recent0000000000', 'req_glassunreviewed0', 'req_pending000000000'].sort();
    expect([...store.state.accessRequests.keys()].sort()).toEqual(kept);
    expect(
      requests
        .list({})
        .requests.map((r) => r.id)
        .sort(),
    ).toEqual(kept);
    expect(await audited()).toBe(7);

    // Nothing more to drop: no commit at all, the journal stays as it is.
    const journal = path.join(home, 'state.journal');
    const size = fs.statSync(journal).size;
    expect(await maintenance.dropDecidedRequests()).toBe('no decided access requests past retention');
    expect(fs.statSync(journal).size).toBe(size);
    lifecycle.stop();
    requests.stop();
    await store.close();

    // Durable: gone after a restart too.
    const reopened = await Store.open(home, { time });
    expect([...reopened.state.accessRequests.keys()].sort()).toEqual(kept);
    await reopened.close();
  });
});
