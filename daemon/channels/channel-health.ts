import type { Channel, ChannelDisabled, ChannelKind, DeliveryAttempt, OutboxItem } from './types';

/** How one channel is doing, for `daemon status` and the desktop app. */
export interface ChannelHealth {
  channelId: string;
  name: string;
  kind: ChannelKind;
  /**
   * True from the first failed attempt (the `failingAfter`th, an option of the dispatcher) until a
   * delivery succeeds and no event of the channel waits for a retry.
   */
  failing: boolean;
  /** ms since the epoch: the first failed attempt of the current run of failures, null if none (or unknown after a restart). */
  since: number | null;
  consecutiveFailures: number;
  lastError: string | null;
  lastStatus: number | null;
  lastDeliveredAt: number | null;
  /** Items that used all their attempts during the current run of failures. */
  failedCount: number;
  /** Items dropped by the outbox bound (count or age) since the daemon started. */
  droppedCount: number;
  disabled: ChannelDisabled | null;
}

type Entry = Omit<ChannelHealth, 'name' | 'kind' | 'disabled'>;

/**
 * Each channel's health, from the attempts recorded since start (and, after a restart, the items
 * waiting for a retry). A change (failing, recovered, disabled) is reported once, never per attempt.
 */
export class HealthTracker {
  private readonly byId = new Map<string, Entry>();

  /**
   * @param failingAfter failed attempts in a row before a channel is reported failing
   * @param retrying an item of the channel that failed and waits for its retry, if any
   * @param onChange called once per change of a channel's health
   */
  constructor(
    private readonly failingAfter: number,
    private readonly retrying: (channelId: string) => OutboxItem | undefined,
    private readonly onChange: (health: ChannelHealth) => void,
  ) {}

  /** The channel's health as of now. */
  of(channel: Channel, disabled = channel.disabled ?? null): ChannelHealth {
    return { ...this.entry(channel.id), name: channel.name, kind: channel.kind, disabled };
  }

  /** `count` items of the channel were dropped by the outbox bound. */
  dropped(channelId: string, count: number): void {
    this.entry(channelId).droppedCount += count;
  }

  // After a restart: an item that already failed and waits for its retry says the channel was failing.
  seed(channels: readonly Channel[]): void {
    for (const channel of channels) {
      const waiting = this.retrying(channel.id);
      if (!waiting) continue;
      const entry = this.entry(channel.id);
      entry.consecutiveFailures = waiting.attempts;
      entry.lastError = waiting.lastError;
      entry.lastStatus = waiting.lastStatus;
      entry.failing = waiting.attempts >= this.failingAfter;
    }
  }

  /** Counts a recorded attempt over `items` items. */
  track(channel: Channel, attempt: DeliveryAttempt, items: number): void {
    const entry = this.entry(channel.id);
    const wasFailing = entry.failing;
    if (attempt.outcome === 'delivered') {
      entry.consecutiveFailures = 0;
      entry.lastStatus = attempt.status;
      entry.lastDeliveredAt = attempt.at + attempt.durationMs;
      // Still failing while another event of the channel waits for its retry.
      if (wasFailing && this.retrying(channel.id)) return;
      Object.assign(entry, { failing: false, since: null, failedCount: 0, lastError: null });
      if (wasFailing) this.onChange(this.of(channel));
      return;
    }
    entry.consecutiveFailures++;
    entry.since ??= attempt.at;
    entry.lastError = attempt.error;
    entry.lastStatus = attempt.status;
    if (attempt.outcome === 'failed') entry.failedCount += items;
    if (attempt.outcome === 'disabled') {
      entry.failing = true;
      this.onChange(this.of(channel, { at: attempt.at + attempt.durationMs, reason: attempt.error ?? 'disabled' }));
      return;
    }
    entry.failing = entry.consecutiveFailures >= this.failingAfter || entry.failedCount > 0;
    if (entry.failing && !wasFailing) this.onChange(this.of(channel));
  }

  private entry(channelId: string): Entry {
    let entry = this.byId.get(channelId);
    if (!entry) {
      entry = {
        channelId,
        failing: false,
        since: null,
        consecutiveFailures: 0,
        lastError: null,
        lastStatus: null,
        lastDeliveredAt: null,
        failedCount: 0,
        droppedCount: 0,
      };
      this.byId.set(channelId, entry);
    }
    return entry;
  }
}
