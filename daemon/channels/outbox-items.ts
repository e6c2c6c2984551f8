import { randomBytes } from 'node:crypto';
import { type Channel, type ChannelEvent, type OutboxItem, channelWants, toEventData } from './types';

// Builds outbox items and ids. The outbox itself lives in the state: `daemon/services/channel-outbox.ts`
// writes the items in the commit of their change and serves them to the dispatcher (`OutboxStore`).

const id = (prefix: string): string => `${prefix}_${randomBytes(16).toString('base64url')}`;

/** A new Standard Webhooks message id, `msg_` + 128 random bits: unique without coordination. */
export function newMessageId(): string {
  return id('msg');
}

/** A new channel id, `ch_…`. */
export function newChannelId(): string {
  return id('ch');
}

/** A new delivery-log entry id, `att_…`. */
export function newAttemptId(): string {
  return id('att');
}

/**
 * The outbox items one event creates: one per channel that wants it, each with its own message
 * id, pending and due at once. Call it inside the transaction that commits the change, and write
 * the items in that same commit (a rolled-back change then never notifies; a committed one always
 * does, even after a crash).
 */
export function fanOut(event: ChannelEvent, channels: readonly Channel[]): OutboxItem[] {
  const data = toEventData(event.data);
  return channels
    .filter((channel) => channelWants(channel, event))
    .map((channel) => ({
      id: newMessageId(),
      channelId: channel.id,
      event: event.type,
      timestamp: event.at,
      data,
      attempts: 0,
      nextAttemptAt: event.at,
      status: 'pending',
      lastError: null,
      lastStatus: null,
    }));
}
