import { describe, expect, it, vi } from 'vitest';
import type { DaemonEvent, Lease } from '../../daemon/api';
import { affectsLeases, formatIn, summarizeLeases, trayMenu, trayTooltip } from './tray-menu';
import { TrayController } from './tray';
import type { RelayResult } from '../ipc/contract';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const lease = (id: string, expiresInMin: number, status: Lease['status'] = 'active'): Lease => ({
  id,
  project: 'acme',
  environment: id === 'b' ? 'staging' : 'prod',
  scope: ['*'],
  reason: 'r',
  issuedAt: new Date(NOW - 60_000).toISOString(),
  expiresAt: new Date(NOW + expiresInMin * 60_000).toISOString(),
  status,
  renewals: 0,
  lastUsedAt: null,
  endedAt: null,
  endReason: null,
});

describe('tray', () => {
  it('counts active leases not yet past expiry and finds the next one', () => {
    const s = summarizeLeases([lease('a', 30), lease('b', 5), lease('c', -1), lease('d', 1, 'revoked')], NOW);
    expect(s).toEqual({
      active: 2,
      next: { id: 'b', project: 'acme', environment: 'staging', expiresAt: lease('b', 5).expiresAt },
    });
    expect(summarizeLeases([], NOW)).toEqual({ active: 0, next: null });
  });

  it('formats time left in words', () => {
    expect(formatIn(-5)).toBe('in 0 s');
    expect(formatIn(45_000)).toBe('in 45 s');
    expect(formatIn(12 * 60_000)).toBe('in 12 min');
    expect(formatIn(3 * 3_600_000)).toBe('in 3 h');
    expect(formatIn(3 * 3_600_000 + 5 * 60_000)).toBe('in 3 h 5 min');
    expect(formatIn(50 * 3_600_000)).toBe('in 2 d 2 h');
  });

  it('draws the menu and tooltip for each state', () => {
    const actions = { open() {}, setStartAtLogin() {}, quit() {} };
    const summary = summarizeLeases([lease('a', 30)], NOW);
    const labels = (items: ReturnType<typeof trayMenu>) => items.map((i) => i.label ?? '—');
    expect(labels(trayMenu({ summary, connected: true, startAtLogin: true }, actions, NOW))).toEqual([
      '1 active lease',
      'Next expiry in 30 min (acme/prod)',
      '—',
      'Open bella',
      'Start at login',
      '—',
      'Quit bella (the daemon keeps running)',
    ]);
    expect(
      labels(
        trayMenu({ summary: { active: 0, next: null }, connected: true, startAtLogin: false }, actions, NOW),
      ).slice(0, 2),
    ).toEqual(['0 active leases', 'No lease is due to expire']);
    expect(labels(trayMenu({ summary, connected: false, startAtLogin: false }, actions, NOW))[0]).toMatch(
      /not reachable/,
    );
    expect(trayTooltip({ summary, connected: true, startAtLogin: false }, NOW)).toBe(
      'bella — 1 active lease, next expiry in 30 min',
    );
    expect(trayTooltip({ summary, connected: false, startAtLogin: false }, NOW)).toBe('bella — daemon not reachable');
  });

  it('refetches on lease events and on data changes that can end leases', () => {
    const at = new Date(NOW).toISOString();
    expect(affectsLeases({ type: 'LeaseExpired', at, project: 'p', environment: 'e', leaseIds: ['x'] })).toBe(true);
    expect(affectsLeases({ type: 'DataChanged', at, resource: 'projects' })).toBe(true);
    expect(affectsLeases({ type: 'DataChanged', at, resource: 'secrets' })).toBe(false);
  });
});

describe('TrayController', () => {
  it('draws from the relay, refetches once for events arriving together, follows the connection, and lets go', async () => {
    const drawn: string[] = [];
    let destroyed = false;
    const tray = {
      setToolTip: (text: string) => drawn.push(text),
      setContextMenu: () => {},
      onClick: () => {},
      destroy: () => {
        destroyed = true;
      },
    };
    let leases = [lease('a', 30)];
    let answer: () => RelayResult = () => ({ ok: true, value: { leases } });
    const invoke = vi.fn(async () => answer());
    let listener: ((e: DaemonEvent) => void) | undefined;
    const unsubscribe = vi.fn();
    const relay = {
      invoke,
      subscribe: (l: (e: DaemonEvent) => void) => {
        listener = l;
        return unsubscribe;
      },
    };
    const controller = new TrayController({
      tray,
      relay,
      actions: { open() {}, quit() {} },
      startAtLogin: { isEnabled: () => false, setEnabled() {} },
      now: () => NOW,
      debounceMs: 5,
    });
    await vi.waitFor(() => expect(drawn.at(-1)).toBe('bella — 1 active lease, next expiry in 30 min'));
    expect(invoke).toHaveBeenCalledTimes(1);

    leases = [lease('a', 30), lease('b', 5)];
    const at = new Date(NOW).toISOString();
    for (const id of ['b', 'c'])
      listener?.({ type: 'LeaseIssued', at, project: 'acme', environment: 'prod', leaseIds: [id] });
    await vi.waitFor(() => expect(drawn.at(-1)).toBe('bella — 2 active leases, next expiry in 5 min'));
    expect(invoke).toHaveBeenCalledTimes(2);

    controller.setConnected(false);
    expect(drawn.at(-1)).toBe('bella — daemon not reachable');
    answer = () => ({ ok: false, error: { code: 'unavailable', message: 'gone' } });
    await controller.refresh();
    expect(drawn.at(-1)).toBe('bella — daemon not reachable');

    controller.dispose();
    expect(unsubscribe).toHaveBeenCalled();
    expect(destroyed).toBe(true);
  });
});
