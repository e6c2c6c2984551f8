/** What the tray shows, as pure functions of the lease list and the connection (drawn by tray.ts). */
import type { DaemonEvent, Lease } from '../../daemon/api';
import type { MenuItem } from './seam';

/** What the tray shows about leases. */
export interface LeaseSummary {
  active: number;
  /** The active lease that expires first. */
  next: { id: string; project: string; environment: string; expiresAt: string } | null;
}

/** Counts the active leases and finds the one expiring first (leases past their expiry do not count). */
export function summarizeLeases(leases: readonly Lease[], now: number): LeaseSummary {
  let active = 0;
  let next: Lease | null = null;
  for (const lease of leases) {
    const expires = Date.parse(lease.expiresAt);
    if (lease.status !== 'active' || !(expires > now)) continue;
    active += 1;
    if (!next || expires < Date.parse(next.expiresAt)) next = lease;
  }
  return {
    active,
    next: next && { id: next.id, project: next.project, environment: next.environment, expiresAt: next.expiresAt },
  };
}

/** "in 45 s", "in 12 min", "in 3 h 5 min", "in 2 d 4 h". */
export function formatIn(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `in ${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `in ${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `in ${h} h ${m % 60} min` : `in ${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `in ${d} d ${h % 24} h` : `in ${d} d`;
}

/** The state the tray menu is drawn from. */
export interface TrayState {
  summary: LeaseSummary | null;
  connected: boolean;
  startAtLogin: boolean;
}

/** What the tray menu's items do. */
export interface TrayActions {
  open(): void;
  setStartAtLogin(enabled: boolean): void;
  quit(): void;
}

function leaseCount(n: number): string {
  return n === 1 ? '1 active lease' : `${n} active leases`;
}

/** The tray menu: lease count, next expiry, open, start at login, quit. */
export function trayMenu(state: TrayState, actions: TrayActions, now: number): MenuItem[] {
  const info: MenuItem[] = [];
  if (!state.connected || !state.summary) {
    info.push({ label: state.connected ? 'Loading leases…' : 'Daemon not reachable — reconnecting…', enabled: false });
  } else {
    info.push({ label: leaseCount(state.summary.active), enabled: false });
    const next = state.summary.next;
    info.push({
      label: next
        ? `Next expiry ${formatIn(Date.parse(next.expiresAt) - now)} (${next.project}/${next.environment})`
        : 'No lease is due to expire',
      enabled: false,
    });
  }
  return [
    ...info,
    { type: 'separator' },
    { label: 'Open bella', click: actions.open },
    {
      label: 'Start at login',
      type: 'checkbox',
      checked: state.startAtLogin,
      click: () => actions.setStartAtLogin(!state.startAtLogin),
    },
    { type: 'separator' },
    { label: 'Quit bella (the daemon keeps running)', click: actions.quit },
  ];
}

/** The tray tooltip. */
export function trayTooltip(state: TrayState, now: number): string {
  if (!state.connected) return 'bella — daemon not reachable';
  if (!state.summary) return 'bella';
  const next = state.summary.next;
  return `bella — ${leaseCount(state.summary.active)}${next ? `, next expiry ${formatIn(Date.parse(next.expiresAt) - now)}` : ''}`;
}

/** Which daemon events can change the tray's numbers. */
export function affectsLeases(event: DaemonEvent): boolean {
  return (
    event.type !== 'DataChanged' ||
    event.resource === 'projects' ||
    event.resource === 'environments' ||
    event.resource === 'policy'
  );
}
