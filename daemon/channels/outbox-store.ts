import type { Channel, ChannelDisabled, DeliveryAttempt, OutboxItem, OutboxItemUpdate } from './types';

/**
 * The outbox bound, per channel: at most this many undelivered events (pending or failed); a new
 * one pushes out the oldest. A receiver down for a week must not grow the state without limit.
 */
export const OUTBOX_MAX_ITEMS = 1000;
/** The outbox bound, per channel: an event not delivered within this long is dropped (72 h). */
export const OUTBOX_MAX_AGE_MS = 72 * 3600_000;

/**
 * What the dispatcher needs from the store; the lead backs it with the durable outbox. Reads are
 * synchronous (served from the in-memory state) and must reflect every write that has resolved.
 * Writes resolve only once durable (fsync'd); if one rejects, nothing of it may be applied.
 */
export interface OutboxStore {
  /** Every channel, enabled or not (disabled ones are skipped). Called on each pass: keep it cheap. */
  channels(): readonly Channel[];
  /**
   * Up to `limit` `pending` items of one channel, in commit order, oldest first. Items whose
   * `nextAttemptAt` is in the future are included: each waits for its own retry, and the others
   * go out meanwhile (so the order of delivery is not promised).
   */
  pending(channelId: string, limit: number): readonly OutboxItem[];
  /** One item by id, whatever its status. */
  get(itemId: string): OutboxItem | undefined;
  /**
   * In ONE durable commit: appends `attempt` to the delivery log and applies every update. Until
   * it resolves the item is not considered delivered: a crash before it means another attempt with
   * the same id after restart (at least once).
   */
  recordAttempt(attempt: DeliveryAttempt, updates: readonly OutboxItemUpdate[]): Promise<void>;
  /** In one durable commit: applies the updates (the retry button). */
  requeue(updates: readonly OutboxItemUpdate[]): Promise<void>;
  /** Durably sets `channel.disabled`; its pending items stay pending until it is enabled again. */
  disableChannel(channelId: string, disabled: ChannelDisabled): Promise<void>;
  /**
   * In one durable commit: drops the channel's items older than {@link OUTBOX_MAX_AGE_MS} (the
   * outbox bound), each recorded in the delivery log, and reports the drop (see `dropped`).
   */
  expire(channelId: string): Promise<void>;
}
