import type { OutboxItem } from './types';

// Slack and Discord: items of one event type and environment committed within a window of the
// first go out as ONE message ("20 leases issued in my-api/production"). Webhooks are never batched.

/** When an item may go: its retry time; a chat item's first attempt also waits out the batching window. */
export function dueAt(item: OutboxItem, chat: boolean, windowMs: number): number {
  return chat && item.attempts === 0 ? Math.max(item.nextAttemptAt, item.timestamp + windowMs) : item.nextAttemptAt;
}

/**
 * A due item and the items like it (one event type and environment, committed within the window
 * of the first, not waiting for a retry), at most `maxSize`: one message.
 */
export function chatBatch(
  head: OutboxItem,
  items: readonly OutboxItem[],
  now: number,
  windowMs: number,
  maxSize: number,
): OutboxItem[] {
  return items
    .filter(
      (item) =>
        item.nextAttemptAt <= now &&
        item.event === head.event &&
        item.data.project === head.data.project &&
        item.data.environment === head.data.environment &&
        item.attempts === head.attempts &&
        item.timestamp <= head.timestamp + windowMs,
    )
    .slice(0, maxSize);
}
