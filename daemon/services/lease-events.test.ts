import { describe, expect, it } from 'vitest';
import { Touched, type State, type StoredLease } from '../store';
import { LeaseChanges, type LeaseOutcome } from './lease-changes';
import { leaseEvents, toChannelEvent, toDaemonEvent, toWarningGroup } from './lease-events';

const NOW = Date.parse('2026-11-28T12:00:00Z');

function lease(id: string, environment = 'production', over: Partial<StoredLease> = {}): StoredLease {
  return {
    id,
    project: 'my-api',
    environment,
    scope: ['DATABASE_URL'],
    reason: `reason ${id}`,
    issuedAt: NOW - 3600_000,
    expiresAt: NOW + 3600_000,
    ttlSeconds: 7200,
    status: 'active',
    renewals: 0,
    renewedAt: null,
    lastUsedAt: null,
    endedAt: null,
    endReason: null,
    tokenHash: 'secret-hash',
    epoch: 1,
    warnedFor: null,
    uses: 0,
    ...over,
  };
}

function changesOf(outcomes: Array<[StoredLease, LeaseOutcome]>): LeaseChanges {
  const changes = new LeaseChanges({} as State, new Touched(), NOW, Buffer.alloc(32));
  for (const [l, outcome] of outcomes) changes.outcomes.set(l.id, { lease: l, outcome });
  return changes;
}

describe('leaseEvents', () => {
  it('groups warnings and expiries per environment, once, for SSE, channels and the desktop alike', () => {
    const events = leaseEvents(
      changesOf([
        [lease('a'), 'warned'],
        [lease('b', 'staging'), 'warned'],
        [lease('c'), 'warned'],
        [lease('d'), 'expired'],
        [lease('e'), 'quiet'],
      ]),
    );
    expect(events.map((e) => [e.type, e.environment, e.leases.map((l) => l.id)])).toEqual([
      ['LeaseExpiringSoon', 'production', ['a', 'c']],
      ['LeaseExpiringSoon', 'staging', ['b']],
      ['LeaseExpired', 'production', ['d']],
    ]);
    const [production] = events;
    expect(toDaemonEvent(production!)).toEqual({
      type: 'LeaseExpiringSoon',
      at: '2026-11-28T12:00:00.000Z',
      project: 'my-api',
      environment: 'production',
      leaseIds: ['a', 'c'],
    });
    expect(toChannelEvent(production!).data.leases?.map((l) => l.id)).toEqual(['a', 'c']);
    expect(toChannelEvent(production!).data).not.toHaveProperty('expiresAt');
    expect(toWarningGroup(production!).warnings.map((w) => w.leaseId)).toEqual(['a', 'c']);
  });

  it('names a single lease expiry and a revocation reason, never the token hash', () => {
    const revoked = lease('r', 'production', { status: 'revoked', endReason: 'leaked' });
    const [event] = leaseEvents(changesOf([[revoked, 'revoked']]));
    expect(toDaemonEvent(event!)).toMatchObject({
      type: 'LeaseRevoked',
      leaseIds: ['r'],
      expiresAt: expect.any(String),
    });
    const channel = toChannelEvent(event!);
    expect(channel).toMatchObject({ type: 'LeaseRevoked', at: NOW, data: { reason: 'leaked', leaseIds: ['r'] } });
    expect(JSON.stringify(channel)).not.toContain('secret-hash');
  });

  it('announces expire-all as one event with the ids it revoked', () => {
    const changes = changesOf([[lease('x', 'production', { status: 'revoked' }), 'quiet']]);
    changes.expiredAll.push({ project: 'my-api', environment: 'production', leaseIds: ['x'] });
    const events = leaseEvents(changes);
    expect(events.map(toDaemonEvent)).toEqual([
      {
        type: 'LeasesExpiredAll',
        at: '2026-11-28T12:00:00.000Z',
        project: 'my-api',
        environment: 'production',
        leaseIds: ['x'],
      },
    ]);
    expect(toChannelEvent(events[0]!)).toEqual({
      type: 'LeasesExpiredAll',
      at: NOW,
      data: { project: 'my-api', environment: 'production', leaseIds: ['x'] },
    });
  });
});
