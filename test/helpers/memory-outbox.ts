import { OUTBOX_MAX_AGE_MS, type OutboxStore } from '../../daemon/channels/outbox-store';
import { newAttemptId } from '../../daemon/channels/outbox-items';
import type {
  Channel,
  ChannelDisabled,
  DeliveryAttempt,
  OutboxItem,
  OutboxItemUpdate,
} from '../../daemon/channels/types';

/**
 * An in-memory {@link OutboxStore}: the reference for what the durable one must do (minus the
 * fsync), used by the tests and the bench. Items keep their insertion order, which stands for
 * commit order. `failWrites` makes the next writes reject (a full disk) without applying anything;
 * {@link pauseWrites} makes them wait (a slow disk).
 */
export class MemoryOutboxStore implements OutboxStore {
  readonly items: OutboxItem[] = [];
  readonly attempts: DeliveryAttempt[] = [];
  private readonly channelList: Channel[] = [];
  failWrites = 0;
  /** The age bound {@link expire} applies, and its clock (set it to the dispatcher's). */
  expiry = { maxAgeMs: OUTBOX_MAX_AGE_MS, now: Date.now };
  private gate: Promise<void> | null = null;

  constructor(channels: readonly Channel[] = []) {
    this.channelList.push(...channels);
  }

  /** Holds every write until the returned function is called. */
  pauseWrites(): () => void {
    let release = (): void => {};
    this.gate = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.gate = null;
      release();
    };
  }

  /** Adds a channel (or replaces one with the same id). */
  putChannel(channel: Channel): void {
    const at = this.channelList.findIndex((c) => c.id === channel.id);
    if (at >= 0) this.channelList[at] = channel;
    else this.channelList.push(channel);
  }

  /** Appends committed items, as the transaction that caused them would. */
  add(items: readonly OutboxItem[]): void {
    this.items.push(...items.map((i) => ({ ...i })));
  }

  channels(): readonly Channel[] {
    return this.channelList;
  }

  pending(channelId: string, limit: number): readonly OutboxItem[] {
    const out: OutboxItem[] = [];
    for (const item of this.items) {
      if (out.length >= limit) break;
      if (item.channelId === channelId && item.status === 'pending') out.push({ ...item });
    }
    return out;
  }

  get(itemId: string): OutboxItem | undefined {
    const item = this.items.find((i) => i.id === itemId);
    return item && { ...item };
  }

  async recordAttempt(attempt: DeliveryAttempt, updates: readonly OutboxItemUpdate[]): Promise<void> {
    await this.write();
    this.attempts.push(attempt);
    this.apply(updates);
  }

  async requeue(updates: readonly OutboxItemUpdate[]): Promise<void> {
    await this.write();
    this.apply(updates);
  }

  async disableChannel(channelId: string, disabled: ChannelDisabled): Promise<void> {
    await this.write();
    const channel = this.channelList.find((c) => c.id === channelId);
    if (channel) this.putChannel({ ...channel, disabled });
  }

  async expire(channelId: string): Promise<void> {
    await this.write();
    const now = this.expiry.now();
    const old = this.items.filter((i) => i.channelId === channelId && i.timestamp + this.expiry.maxAgeMs <= now);
    if (old.length === 0) return;
    for (const item of old) this.items.splice(this.items.indexOf(item), 1);
    this.attempts.push({
      id: newAttemptId(),
      channelId,
      itemIds: old.map((i) => i.id),
      event: (old[0] as OutboxItem).event,
      attempt: (old[0] as OutboxItem).attempts,
      at: now,
      durationMs: 0,
      outcome: 'dropped',
      status: null,
      error: 'too old: dropped',
      nextAttemptAt: null,
    });
  }

  private async write(): Promise<void> {
    if (this.gate) await this.gate;
    if (this.failWrites > 0) {
      this.failWrites--;
      throw new Error('ENOSPC: no space left on device');
    }
  }

  private apply(updates: readonly OutboxItemUpdate[]): void {
    for (const update of updates) {
      const item = this.items.find((i) => i.id === update.id);
      if (item) Object.assign(item, update);
    }
  }
}
