import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../daemon/api/types';
import type { DeliveryAttempt, OutboxItem } from '../../../daemon/api/channels';
import { parseRoute, routeHash } from './route';
import { mergeNewest } from '../features/audit/audit-trail';
import { listenerState } from '../features/listener/ListenerView';
import { parseAllowText } from '../features/listener/ListenerForm';
import { channelState, type ChannelRow } from '../features/notifications/channel-state';
import { retryTargets } from '../features/notifications/DeliveriesSection';
import { shortFingerprint } from '../features/team/MemberRow';

describe('route', () => {
  it('has the daemon-wide screens', () => {
    expect(parseRoute('#/listener')).toEqual({ view: 'listener', tab: 'secrets' });
    expect(parseRoute(routeHash({ view: 'notifications', tab: 'secrets' })).view).toBe('notifications');
    expect(routeHash({ view: 'audit', tab: 'leases' })).toBe('#/audit');
    expect(parseRoute('#/team')).toEqual({ view: 'team', tab: 'secrets' });
    expect(parseRoute('#/bogus').view).toBeUndefined();
  });
  it('opens one request: #/requests/ID (where a desktop notification leads)', () => {
    const r = { view: 'requests' as const, request: 'req_0123456789abcdef', tab: 'secrets' as const };
    expect(routeHash(r)).toBe('#/requests/req_0123456789abcdef');
    expect(parseRoute(routeHash(r))).toEqual(r);
    expect(parseRoute('#/requests')).toEqual({ view: 'requests', tab: 'secrets' });
    expect(parseRoute('#/requests/not-an-id').view).toBeUndefined();
  });
});

describe('mergeNewest', () => {
  const entries = (...seqs: number[]) => seqs.map((seq) => ({ seq }) as AuditEntry);
  it('puts new entries on top and keeps the older pages', () => {
    const prev = { key: 'k', entries: entries(5, 4, 3, 2, 1), nextCursor: null };
    expect(mergeNewest(prev, 'k', { entries: entries(7, 6, 5), nextCursor: 5 }).entries.map((e) => e.seq)).toEqual([
      7, 6, 5, 4, 3, 2, 1,
    ]);
  });
  it('starts over for other filters, or when more arrived than a page', () => {
    const prev = { key: 'k', entries: entries(3, 2, 1), nextCursor: null };
    expect(mergeNewest(prev, 'other', { entries: entries(9), nextCursor: null }).entries.map((e) => e.seq)).toEqual([
      9,
    ]);
    expect(mergeNewest(prev, 'k', { entries: entries(9, 8), nextCursor: 8 })).toEqual({
      key: 'k',
      entries: entries(9, 8),
      nextCursor: 8,
    });
  });
});

describe('listener', () => {
  it('reads an allow list as typed', () => {
    expect(parseAllowText(' 10.0.0.0/8,192.168.1.20\n10.0.0.0/8  fd00::/8 ')).toEqual([
      '10.0.0.0/8',
      '192.168.1.20',
      'fd00::/8',
    ]);
    expect(parseAllowText('  ')).toEqual([]);
  });
  it('tells off, serving and enabled-but-not-listening apart', () => {
    const base = { enabled: true, listening: ['0.0.0.0:7443'] } as Parameters<typeof listenerState>[0];
    expect(listenerState(base).label).toBe('Serving');
    expect(listenerState({ ...base, listening: [] }).label).toBe('Not listening');
    expect(listenerState({ ...base, enabled: false }).label).toBe('Off');
  });
});

describe('channels', () => {
  const channel = { id: 'ch_1', disabled: null, health: null } as unknown as ChannelRow;
  it('says whether a channel is disabled, failing or delivering', () => {
    expect(channelState(channel).label).toBe('Nothing sent yet');
    expect(channelState({ ...channel, disabled: { at: 1, reason: 'the receiver answered 410 Gone' } })).toMatchObject({
      label: 'Disabled',
      detail: 'the receiver answered 410 Gone',
    });
    const health = {
      failing: true,
      since: null,
      lastError: 'HTTP 500',
      lastStatus: 500,
      lastDeliveredAt: null,
      failedCount: 1,
    };
    expect(channelState({ ...channel, health })).toMatchObject({ label: 'Failing', detail: 'HTTP 500' });
    expect(channelState({ ...channel, health: { ...health, failing: false, lastDeliveredAt: 'x' } }).label).toBe(
      'Delivering',
    );
  });

  it('puts Retry on the newest attempt of each failed event, and lists the others apart', () => {
    const attempt = (id: string, itemIds: string[]) => ({ id, itemIds }) as DeliveryAttempt;
    const item = (id: string) => ({ id }) as OutboxItem;
    const { byAttempt, unlisted } = retryTargets(
      [attempt('att_3', ['msg_a']), attempt('att_2', ['msg_a']), attempt('att_1', ['msg_b'])],
      [item('msg_a'), item('msg_c')],
    );
    expect([...byAttempt].map(([a, i]) => [a, i.id])).toEqual([['att_3', 'msg_a']]);
    expect(unlisted.map((i) => i.id)).toEqual(['msg_c']);
  });
});

describe('team', () => {
  it('shortens a device fingerprint to its first eight and last four hex digits', () => {
    expect(shortFingerprint(`sha256:${'0123456789abcdef'.repeat(4)}`)).toBe('sha256:01234567…cdef');
    expect(shortFingerprint('sha256:abc')).toBe('sha256:abc');
  });
});
