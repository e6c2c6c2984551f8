import { unrefTimers } from '../base/node/timers';
import { type TimeFormatOptions, type WarningGroup, formatExpiryWarning } from './format';
import type { DesktopNotification } from './notifier';

/** Options of {@link WarningGrouper}. */
export interface WarningGrouperOptions {
  /** How long after a group's first warning it is emitted. Default 500 ms. */
  windowMs?: number;
  /** Called once per group with the warnings and the notification to show for them. */
  emit(group: WarningGroup, notification: DesktopNotification): void;
  /** Default `Date.now`. */
  now?(): number;
  /** Default `setTimeout`, unref'd. */
  setTimer?(fn: () => void, ms: number): unknown;
  /** Default `clearTimeout`. */
  clearTimer?(handle: unknown): void;
  /** Time zone/locale for the notification text (defaults: the system's). */
  timeZone?: string;
  locale?: string;
  /** Called if `emit` throws. Default `console.error`. */
  onError?(error: unknown): void;
}

interface Pending {
  group: WarningGroup;
  timer: unknown;
}

/**
 * Holds the expiry warnings of an environment for `windowMs` after its first one and emits them as
 * one notification, so warnings of several commits crossing close together (a mass issue) never
 * flood the desktop. A lease warned twice inside a window (e.g. renewed) appears once, with its
 * latest data.
 */
export class WarningGrouper {
  private readonly pendingGroups = new Map<string, Pending>();
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  private readonly onError: (error: unknown) => void;

  constructor(private readonly options: WarningGrouperOptions) {
    this.windowMs = Math.max(0, options.windowMs ?? 500);
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? unrefTimers.setTimer;
    this.clearTimer = options.clearTimer ?? unrefTimers.clearTimer;
    this.onError = options.onError ?? ((error) => console.error('expiry warning notification failed:', error));
  }

  /**
   * Merges one commit's warnings of an environment (already grouped by the lease lifecycle) into
   * the group waiting for that environment, starting its window if none waits.
   */
  add(group: WarningGroup): void {
    if (group.warnings.length === 0) return;
    const key = `${group.project}\u0000${group.environment}`;
    const existing = this.pendingGroups.get(key);
    if (existing) {
      const renewed = new Set(group.warnings.map((w) => w.leaseId));
      existing.group.warnings = [...existing.group.warnings.filter((w) => !renewed.has(w.leaseId)), ...group.warnings];
      return;
    }
    const timer = this.setTimer(() => this.emitGroup(key), this.windowMs);
    this.pendingGroups.set(key, { group: { ...group, warnings: [...group.warnings] }, timer });
  }

  /** Removes a lease from the waiting groups (revoked or renewed before its group was sent). */
  remove(leaseId: string): void {
    for (const [key, pending] of this.pendingGroups) {
      pending.group.warnings = pending.group.warnings.filter((w) => w.leaseId !== leaseId);
      if (pending.group.warnings.length === 0) {
        this.clearTimer(pending.timer);
        this.pendingGroups.delete(key);
      }
    }
  }

  /** Groups waiting for their window to end. */
  pending(): number {
    return this.pendingGroups.size;
  }

  /** Emits every waiting group now (e.g. on shutdown). */
  flush(): void {
    for (const key of [...this.pendingGroups.keys()]) this.emitGroup(key);
  }

  /** Drops every waiting group without emitting. */
  stop(): void {
    for (const pending of this.pendingGroups.values()) this.clearTimer(pending.timer);
    this.pendingGroups.clear();
  }

  private emitGroup(key: string): void {
    const pending = this.pendingGroups.get(key);
    if (!pending) return;
    this.clearTimer(pending.timer);
    this.pendingGroups.delete(key);
    const format: TimeFormatOptions = {
      now: this.now(),
      timeZone: this.options.timeZone,
      locale: this.options.locale,
    };
    try {
      this.options.emit(pending.group, formatExpiryWarning(pending.group, format));
    } catch (error) {
      this.onError(error);
    }
  }
}
