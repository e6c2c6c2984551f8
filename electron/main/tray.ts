import type { Lease } from '../../daemon/api';
import type { Relay } from './relay';
import type { TrayLike } from './seam';
import { affectsLeases, summarizeLeases, trayMenu, trayTooltip, type TrayActions, type TrayState } from './tray-menu';

/** Options of {@link TrayController}. */
export interface TrayControllerOptions {
  tray: TrayLike;
  relay: Pick<Relay, 'invoke' | 'subscribe'>;
  actions: Omit<TrayActions, 'setStartAtLogin'>;
  startAtLogin: { isEnabled(): boolean; setEnabled(enabled: boolean): void };
  now?: () => number;
  /** Events arriving together cause one refetch after this long. */
  debounceMs?: number;
  /** How often the "in N min" labels are redrawn. */
  tickMs?: number;
}

/**
 * Keeps the tray's menu and tooltip current from daemon events; no polling of the daemon. What it
 * shows is drawn by tray-menu.ts from {@link TrayState}; this class only keeps that state fresh:
 * a refetch of the active leases after lease events (debounced), a redraw on a timer for the
 * relative times, and the connection state the relay reports.
 */
export class TrayController {
  private readonly state: TrayState;
  private readonly actions: TrayActions;
  private readonly now: () => number;
  private readonly unsubscribe: () => void;
  private readonly tick: ReturnType<typeof setInterval>;
  private debounce: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(private readonly options: TrayControllerOptions) {
    this.now = options.now ?? Date.now;
    this.state = {
      summary: null,
      connected: true,
      startAtLogin: safe(() => options.startAtLogin.isEnabled(), false),
    };
    this.actions = { ...options.actions, setStartAtLogin: (enabled) => this.setStartAtLogin(enabled) };
    this.unsubscribe = options.relay.subscribe((event) => {
      if (!affectsLeases(event)) return;
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => void this.refresh(), options.debounceMs ?? 250);
    });
    // Redraw relative times only (a local operation); a lease passing its expiry drops out of the count here too.
    this.tick = setInterval(() => {
      const next = this.state.summary?.next;
      if (next && Date.parse(next.expiresAt) <= this.now()) void this.refresh();
      else this.draw();
    }, options.tickMs ?? 30_000);
    this.tick.unref?.();

    options.tray.onClick(() => options.actions.open());
    this.draw();
    void this.refresh();
  }

  /** Refetches the active leases and redraws. */
  async refresh(): Promise<void> {
    const result = await this.options.relay.invoke('listLeases', { status: 'active', limit: 10_000 });
    if (result.ok) {
      this.state.summary = summarizeLeases((result.value as { leases: Lease[] }).leases, this.now());
      this.state.connected = true;
    } else if (result.error.code === 'unavailable') {
      this.state.connected = false;
    }
    this.draw();
  }

  /** What the relay says of the event stream; on reconnecting, the leases are fetched again. */
  setConnected(connected: boolean): void {
    if (this.state.connected === connected) return;
    this.state.connected = connected;
    this.draw();
    if (connected) void this.refresh();
  }

  dispose(): void {
    this.disposed = true;
    this.unsubscribe();
    clearTimeout(this.debounce);
    clearInterval(this.tick);
    this.options.tray.destroy();
  }

  private setStartAtLogin(enabled: boolean): void {
    try {
      this.options.startAtLogin.setEnabled(enabled);
    } catch (err) {
      console.error('bella: could not change start at login:', err);
    }
    this.state.startAtLogin = safe(() => this.options.startAtLogin.isEnabled(), enabled);
    this.draw();
  }

  private draw(): void {
    if (this.disposed) return;
    const t = this.now();
    this.options.tray.setToolTip(trayTooltip(this.state, t));
    this.options.tray.setContextMenu(trayMenu(this.state, this.actions, t));
  }
}

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
