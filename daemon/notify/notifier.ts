import {
  REAP_GRACE_MS,
  type Attempt,
  type NotificationAction,
  type Outcome,
  type ProblemKind,
  type Running,
} from './backend';
import { runNodeNotifier } from './node-notifier';
import { findOnPath, MISSING_NOTIFY_SEND, runNotifySend } from './notify-send';

/** A desktop notification: `title` is the summary line, `message` the body (plain text). */
export interface DesktopNotification {
  title: string;
  message: string;
  /** A button (notify-send on Linux/BSD only): its click runs `invoked`. */
  action?: NotificationAction;
}

/** Outcome of one {@link DesktopNotifier.notify} call. `problem` says why it was not shown. */
export interface NotifyResult {
  sent: boolean;
  problem: string | null;
}

/**
 * Whether desktop notifications are delivered, as far as the notifier knows now: `null` until
 * one was attempted (nothing is claimed before), then whether the last one was shown; `false`
 * from the start when notify-send is missing.
 */
export interface NotifierHealth {
  available: boolean | null;
  problem: string | null;
}

/** Operation counts (for tests and `daemon status`); no timings. */
export interface NotifierStats {
  /** notify() calls. */
  requested: number;
  /** Notifier processes started. */
  spawned: number;
  sent: number;
  failed: number;
  timedOut: number;
  /** Dropped because the queue was full (oldest first). */
  dropped: number;
  /** Merged into an identical notification already waiting. */
  coalesced: number;
  /** Processes running now (0 or 1). */
  inFlight: number;
  /** Most processes ever running at once. */
  maxInFlight: number;
  /** Notifications waiting for the running one. */
  queued: number;
}

/** Options of {@link createDesktopNotifier}. */
export interface DesktopNotifierOptions {
  /** One line per problem (logged once until notifications work again), drop, or recovery. */
  log(msg: string): void;
  /** Kill the notifier process after this long. Default 4000 ms. */
  timeoutMs?: number;
  /** Notifications that may wait behind the running one; the oldest is dropped beyond it. Default 3. */
  maxQueue?: number;
  /** Environment for the PATH lookup and the child (DBUS_SESSION_BUS_ADDRESS). Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Default `process.platform`. Linux/BSD use notify-send directly; others go through node-notifier. */
  platform?: NodeJS.Platform;
  /** App name shown by the notification server. Default `bella`. */
  appName?: string;
}

/** Sends desktop notifications without ever throwing or blocking its caller for long. */
export interface DesktopNotifier {
  /** Queues a notification; resolves when it was shown, failed, timed out or was dropped. Never rejects. */
  notify(n: DesktopNotification): Promise<NotifyResult>;
  health(): NotifierHealth;
  stats(): NotifierStats;
  /** Kills a running notifier process and resolves everything queued as not sent. */
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 4_000;
const DEFAULT_MAX_QUEUE = 3;
const MAX_TITLE = 200;
const MAX_MESSAGE = 2_000;

interface Job {
  title: string;
  message: string;
  action?: NotificationAction;
  resolve(result: NotifyResult): void;
  promise: Promise<NotifyResult>;
}

/**
 * Makes user text safe to hand to a notifier as one argument: no NUL bytes (they would cut the
 * argument short, or make spawn throw), no other control characters except newline and tab,
 * bounded length (huge arguments fail with E2BIG).
 */
export function cleanText(text: unknown, max: number): string {
  // eslint-disable-next-line no-control-regex
  const s = String(text ?? '').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/**
 * A desktop notifier. On Linux/BSD it runs `notify-send` itself (`notify-send.ts`); elsewhere
 * node-notifier's execFile backends (`node-notifier.ts`). One process at a time, a small queue, a
 * hard time limit; problems are logged once and reported by `health()`.
 */
export function createDesktopNotifier(options: DesktopNotifierOptions): DesktopNotifier {
  return new QueuedNotifier(options);
}

/** The queue in front of the backends: one notification at a time, the rest wait or are merged. */
class QueuedNotifier implements DesktopNotifier {
  private readonly timeoutMs: number;
  private readonly maxQueue: number;
  private readonly env: NodeJS.ProcessEnv;
  private readonly platform: NodeJS.Platform;
  private readonly appName: string;
  private readonly useNotifySend: boolean;
  private readonly counts: NotifierStats = {
    requested: 0,
    spawned: 0,
    sent: 0,
    failed: 0,
    timedOut: 0,
    dropped: 0,
    coalesced: 0,
    inFlight: 0,
    maxInFlight: 0,
    queued: 0,
  };
  private readonly queue: Job[] = [];
  /** The one notifier process allowed at a time. */
  private running: Running | null = null;
  private closed = false;
  /** notify-send's path: undefined until looked up, null when missing. */
  private binary: string | null | undefined;
  private problem: { kind: ProblemKind; text: string } | null = null;
  private readonly logged = new Set<ProblemKind>();
  private readonly idleWaiters: Array<() => void> = [];
  /** Shown notifications with an action, still waiting for a click. */
  private readonly lingering = new Set<() => void>();

  constructor(private readonly options: DesktopNotifierOptions) {
    this.timeoutMs = Math.max(1, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.maxQueue = Math.max(0, options.maxQueue ?? DEFAULT_MAX_QUEUE);
    this.env = options.env ?? process.env;
    this.platform = options.platform ?? process.platform;
    this.appName = cleanText(options.appName ?? 'bella', 64) || 'bella';
    this.useNotifySend = this.platform === 'linux' || /bsd$/.test(this.platform);
  }

  notify(n: DesktopNotification): Promise<NotifyResult> {
    try {
      this.counts.requested++;
      if (this.closed) return Promise.resolve({ sent: false, problem: 'notifier closed' });
      const title = cleanText(n?.title, MAX_TITLE) || this.appName;
      const message = cleanText(n?.message, MAX_MESSAGE);
      if (this.useNotifySend && !this.binary && this.resolveBinary() === null) {
        this.counts.failed++;
        return Promise.resolve({ sent: false, problem: MISSING_NOTIFY_SEND });
      }
      const same = this.queue.find((j) => j.title === title && j.message === message && !j.action && !n?.action);
      if (same) {
        this.counts.coalesced++;
        this.log(`desktop notifications: merged a repeat of "${title}" into the one already waiting`);
        return same.promise;
      }
      let resolve!: (r: NotifyResult) => void;
      const promise = new Promise<NotifyResult>((r) => (resolve = r));
      this.queue.push({ title, message, ...(n?.action ? { action: n.action } : {}), resolve, promise });
      while (this.queue.length > this.maxQueue && (this.running !== null || this.queue.length > 1)) {
        const oldest = this.queue.shift();
        if (!oldest) break;
        this.counts.dropped++;
        this.log(
          `desktop notifications: dropped "${oldest.title}" (the notifier is busy and ${this.maxQueue} more are waiting)`,
        );
        oldest.resolve({ sent: false, problem: 'dropped: too many notifications waiting for a slow notifier' });
      }
      this.counts.queued = this.queue.length;
      this.pump();
      return promise;
    } catch (error) {
      return Promise.resolve({ sent: false, problem: `notify failed: ${(error as Error)?.message ?? error}` });
    }
  }

  health(): NotifierHealth {
    if (this.useNotifySend && !this.binary) this.resolveBinary();
    if (this.useNotifySend && !this.binary) return { available: false, problem: MISSING_NOTIFY_SEND };
    if (this.problem !== null) return { available: false, problem: this.problem.text };
    // Honest: a notifier that has never delivered anything is not known to work.
    return { available: this.counts.sent > 0 ? true : null, problem: null };
  }

  stats(): NotifierStats {
    return { ...this.counts };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.resolve({ sent: false, problem: 'notifier closed' });
    this.counts.queued = 0;
    for (const kill of [...this.lingering]) kill();
    if (this.running === null) return;
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.running.kill();
    await Promise.race([idle, new Promise((resolve) => setTimeout(resolve, REAP_GRACE_MS).unref())]);
  }

  /** Starts the next waiting notification, if none is running. */
  private pump(): void {
    if (this.running !== null) return;
    const job = this.queue.shift();
    this.counts.queued = this.queue.length;
    if (!job) {
      for (const wake of this.idleWaiters.splice(0)) wake();
      return;
    }
    let settled = false;
    const slot: Running = { kill: () => undefined };
    this.running = slot;
    const attempt: Attempt = {
      title: job.title,
      message: job.message,
      ...(job.action ? { action: job.action } : {}),
      timeoutMs: this.timeoutMs,
      started: () => {
        this.counts.spawned++;
        this.counts.inFlight = 1;
        this.counts.maxInFlight = Math.max(this.counts.maxInFlight, this.counts.inFlight);
      },
      settle: (outcome) => {
        if (settled) return;
        settled = true;
        this.settle(job, outcome);
      },
      release: () => {
        if (this.running !== slot) return;
        this.running = null;
        this.counts.inFlight = 0;
        queueMicrotask(() => this.pump());
      },
      closed: () => this.closed,
      linger: (kill) => {
        this.lingering.add(kill);
        return () => this.lingering.delete(kill);
      },
    };
    if (!this.useNotifySend) {
      slot.kill = runNodeNotifier(attempt, this.platform).kill;
      return;
    }
    this.binary = undefined; // look again each time, so installing libnotify-bin needs no restart
    const file = this.resolveBinary();
    if (file === null) {
      attempt.settle({ sent: false, problem: MISSING_NOTIFY_SEND });
      attempt.release();
      return;
    }
    slot.kill = runNotifySend(attempt, file, this.appName, this.env).kill;
  }

  /** Counts how a notification ended, logs a new problem once, and answers its caller. */
  private settle(job: Job, outcome: Outcome): void {
    if (outcome.sent) {
      this.recovered();
      this.counts.sent++;
      job.resolve({ sent: true, problem: null });
      return;
    }
    this.counts.failed++;
    if (outcome.timedOut) this.counts.timedOut++;
    if (outcome.kind === 'missing') this.binary = undefined;
    if (outcome.kind) this.report(outcome.kind, outcome.problem);
    job.resolve({ sent: false, problem: outcome.problem });
  }

  private resolveBinary(): string | null {
    if (!this.useNotifySend) return null;
    if (this.binary) return this.binary;
    this.binary = findOnPath('notify-send', this.env.PATH);
    if (this.binary === null) this.report('missing', MISSING_NOTIFY_SEND);
    else if (this.problem?.kind === 'missing') {
      this.problem = null;
      this.logged.delete('missing');
      this.log(`desktop notifications: found notify-send at ${this.binary}`);
    }
    return this.binary;
  }

  private report(kind: ProblemKind, text: string): void {
    this.problem = { kind, text };
    if (this.logged.has(kind)) return;
    this.logged.add(kind);
    this.log(`desktop notifications: ${text}`);
  }

  private recovered(): void {
    if (this.problem !== null && this.logged.size > 0) this.log('desktop notifications: delivered again');
    this.problem = null;
    this.logged.clear();
  }

  private log(msg: string): void {
    try {
      this.options.log(msg);
    } catch {
      // a broken logger must not break notifications
    }
  }
}
