import { urlRules } from './address';
import { newAttemptId } from './outbox-items';
import { renderBody } from './payloads';
import type { NextStep } from './retry-schedule';
import type { OutgoingRequest, SendResult } from './send';
import { signingSecrets, signWebhook } from './sign';
import type { Channel, DeliveryAttempt, OutboxItem, OutboxItemUpdate } from './types';

// One delivery attempt as data: the request it sends, and the delivery-log entry and item updates
// it leaves (written by the store in one commit).

/** Time zone/locale for chat messages. */
export interface MessageFormat {
  timeZone?: string;
  locale?: string;
}

/**
 * The request for `items` (one, or a chat batch) at `at`: rendered for the channel's kind, a
 * webhook signed with its current secrets. A webhook without a secret is not sent: the answer is
 * to disable the channel.
 */
export function buildRequest(
  channel: Channel,
  items: readonly OutboxItem[],
  at: number,
  format: MessageFormat,
): OutgoingRequest | SendResult {
  const body = renderBody(channel.kind, items, { now: at, timeZone: format.timeZone, locale: format.locale });
  const rules = urlRules(channel);
  if (channel.kind !== 'webhook') return { url: channel.url, headers: {}, body, rules };
  const secrets = signingSecrets(channel, at);
  if (secrets.length === 0) {
    return { outcome: 'disable', status: null, error: 'the webhook channel has no signing secret', responseBytes: 0 };
  }
  return {
    url: channel.url,
    headers: { ...signWebhook(secrets, (items[0] as OutboxItem).id, at, body) },
    body,
    rules,
  };
}

/** The delivery-log entry of one attempt (the `attempts`th, from `at` to `ended`) and the update of each item. */
export function attemptRecord(
  channel: Channel,
  items: readonly OutboxItem[],
  result: SendResult,
  times: { attempts: number; at: number; ended: number },
  step: NextStep,
): { attempt: DeliveryAttempt; updates: OutboxItemUpdate[] } {
  const { attempts, at, ended } = times;
  const attempt: DeliveryAttempt = {
    id: newAttemptId(),
    channelId: channel.id,
    itemIds: items.map((i) => i.id),
    event: (items[0] as OutboxItem).event,
    attempt: attempts,
    at,
    durationMs: Math.max(0, ended - at),
    outcome: step.outcome,
    status: result.status,
    error: result.error,
    nextAttemptAt: step.nextAttemptAt,
  };
  const updates = items.map((item): OutboxItemUpdate => ({
    id: item.id,
    attempts,
    nextAttemptAt: step.nextAttemptAt ?? item.nextAttemptAt,
    status: step.status,
    lastError: result.error,
    lastStatus: result.status,
  }));
  return { attempt, updates };
}

/** An item's fields that an update carries. */
export function toUpdate(item: OutboxItem): OutboxItemUpdate {
  const { id, attempts, nextAttemptAt, status, lastError, lastStatus } = item;
  return { id, attempts, nextAttemptAt, status, lastError, lastStatus };
}
