/** What kind of problem a notification met; each kind is logged once until delivery works again. */
export type ProblemKind = 'missing' | 'timeout' | 'failed' | 'unsupported';

/** How one notification ended, as a backend reports it. `kind` makes it a problem worth logging. */
export type Outcome = { sent: true } | { sent: false; problem: string; kind?: ProblemKind; timedOut?: boolean };

/** A button on a notification (notify-send `--action`): `invoked` runs when the person clicks it. */
export interface NotificationAction {
  label: string;
  invoked(): void;
  /** How long the notification waits for the click before its process is ended. Default 1 h. */
  lifetimeMs?: number;
}

/** One notification handed to a backend (notify-send, node-notifier) by the notifier's queue. */
export interface Attempt {
  title: string;
  message: string;
  action?: NotificationAction;
  /** Give up (and kill what can be killed) after this long. */
  timeoutMs: number;
  /** Counts a started notifier process. */
  started(): void;
  /** How it ended; the first call counts, later ones are ignored. */
  settle(outcome: Outcome): void;
  /** The process is gone (or given up on): the next notification may start. */
  release(): void;
  /** Whether the notifier is closing (a killed process is then no problem). */
  closed(): boolean;
  /**
   * A shown notification with an action keeps its process waiting for the click after its slot
   * is released: `kill` ends it when the notifier closes. Returns the function that forgets it.
   */
  linger(kill: () => void): () => void;
}

/** A running attempt: `kill` ends its process, if it has one. */
export interface Running {
  kill(): void;
}

/** After a kill, how long to wait for the process to be reaped before freeing the slot anyway. */
export const REAP_GRACE_MS = 1_000;
