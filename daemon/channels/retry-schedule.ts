import type { SendResult } from './send';
import type { AttemptOutcome, OutboxItem } from './types';

// Each outbox item's own retry schedule: how long it waits after a failed attempt, and when it
// has used its attempts.

/** Attempts per item before it is marked `failed`. */
export const MAX_ATTEMPTS = 5;
/** The wait after the first failed attempt; it doubles after each: 2, 4, 8, 16 min, 30 min in all. */
export const BASE_RETRY_DELAY_MS = 2 * 60_000;
/** Each wait is scaled by a random factor in [1 − JITTER, 1 + JITTER]. */
export const RETRY_JITTER = 0.2;

/**
 * The wait before the next attempt after `failedAttempts` failed ones (1 = the first failed), or
 * null when the item has used its {@link MAX_ATTEMPTS}. Exponential with bounded jitter, so
 * channels that failed together (one receiver restarting) do not all retry in the same instant:
 * attempts land at about 0, 2, 6, 14 and 30 min (24–36 min with jitter).
 */
export function retryDelay(
  failedAttempts: number,
  random: () => number = Math.random,
  baseMs: number = BASE_RETRY_DELAY_MS,
): number | null {
  if (failedAttempts < 1 || failedAttempts >= MAX_ATTEMPTS) return null;
  const factor = 1 - RETRY_JITTER + 2 * RETRY_JITTER * Math.min(1, Math.max(0, random()));
  return Math.round(baseMs * 2 ** (failedAttempts - 1) * factor);
}

/** What one attempt leaves: the delivery log's outcome, the items' status and their next attempt. */
export interface NextStep {
  outcome: AttemptOutcome;
  status: OutboxItem['status'];
  /** Null: the items keep their time (delivered, or out of attempts). */
  nextAttemptAt: number | null;
}

/**
 * The step after an attempt (the `attempts`th, ended at `ended`): delivered; disabled (410, due
 * again once the channel is enabled); retried after {@link retryDelay}; or `failed` once out of attempts.
 */
export function nextStep(
  result: SendResult,
  attempts: number,
  ended: number,
  random: () => number,
  baseMs?: number,
): NextStep {
  if (result.outcome === 'delivered') return { outcome: 'delivered', status: 'delivered', nextAttemptAt: null };
  if (result.outcome === 'disable') return { outcome: 'disabled', status: 'pending', nextAttemptAt: ended };
  const delay = retryDelay(attempts, random, baseMs);
  if (delay === null) return { outcome: 'failed', status: 'failed', nextAttemptAt: null };
  return { outcome: 'retry', status: 'pending', nextAttemptAt: ended + delay };
}
