import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** A desktop notification: `title` is the summary line, `message` the body (plain text). */
export interface DesktopNotification {
  title: string;
  message: string;
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
const MAX_STDERR = 4_096;
/** After a kill, how long to wait for the process to be reaped before freeing the slot anyway. */
const REAP_GRACE_MS = 1_000;

export const MISSING_NOTIFY_SEND =
  'notify-send was not found on PATH, so desktop notifications are off: install libnotify-bin ' +
  '(Debian/Ubuntu: sudo apt install libnotify-bin; Fedora: sudo dnf install libnotify)';

type ProblemKind = 'missing' | 'timeout' | 'failed' | 'unsupported';

interface Job {
  title: string;
  message: string;
  resolve(result: NotifyResult): void;
  promise: Promise<NotifyResult>;
}

/** Finds an executable on a PATH string, like `which`. */
export function findOnPath(name: string, pathVar: string | undefined): string | null {
  for (const dir of (pathVar ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
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
 * notify-send (libnotify ≥ 0.8) runs the body through g_strcompress, which turns `\n`, `\x…`
 * and friends into characters; doubling backslashes makes the body arrive verbatim.
 */
export function escapeNotifySendBody(body: string): string {
  return body.replace(/\\/g, '\\\\');
}

/** argv for notify-send. `--` ends option parsing, so a title starting with `-` is not an option. */
export function notifySendArgs(appName: string, title: string, message: string): string[] {
  return [`--app-name=${appName}`, '--', title, escapeNotifySendBody(message)];
}

/**
 * A desktop notifier. On Linux/BSD it runs `notify-send` itself with an argument array and no
 * shell (node-notifier's own notify-send backend builds a command string for `/bin/sh` and gives
 * no way to kill a hung process). Elsewhere it uses node-notifier, whose macOS and Windows
 * backends run their helper with execFile. One process at a time, a small queue, a hard time
 * limit; problems are logged once and reported by `health()`.
 */
export function createDesktopNotifier(options: DesktopNotifierOptions): DesktopNotifier {
  const timeoutMs = Math.max(1, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const maxQueue = Math.max(0, options.maxQueue ?? DEFAULT_MAX_QUEUE);
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const appName = cleanText(options.appName ?? 'bella', 64) || 'bella';
  const useNotifySend = platform === 'linux' || /bsd$/.test(platform);
  const safeLog = (msg: string): void => {
    try {
      options.log(msg);
    } catch {
      // a broken logger must not break notifications
    }
  };

  const stats: NotifierStats = {
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
  const queue: Job[] = [];
  let running: { kill(): void } | null = null; // the one notifier process allowed at a time
  let closed = false;
  let binary: string | null | undefined;
  let problem: { kind: ProblemKind; text: string } | null = null;
  const logged = new Set<ProblemKind>();

  function report(kind: ProblemKind, text: string): void {
    problem = { kind, text };
    if (logged.has(kind)) return;
    logged.add(kind);
    safeLog(`desktop notifications: ${text}`);
  }

  function recovered(): void {
    if (problem !== null && logged.size > 0) safeLog('desktop notifications: delivered again');
    problem = null;
    logged.clear();
  }

  function resolveBinary(): string | null {
    if (!useNotifySend) return null;
    if (binary) return binary;
    binary = findOnPath('notify-send', env.PATH);
    if (binary === null) report('missing', MISSING_NOTIFY_SEND);
    else if (problem?.kind === 'missing') {
      problem = null;
      logged.delete('missing');
      safeLog(`desktop notifications: found notify-send at ${binary}`);
    }
    return binary;
  }

  function health(): NotifierHealth {
    if (useNotifySend && !binary) resolveBinary();
    if (useNotifySend && !binary) return { available: false, problem: MISSING_NOTIFY_SEND };
    if (problem !== null) return { available: false, problem: problem.text };
    // Honest: a notifier that has never delivered anything is not known to work.
    return { available: stats.sent > 0 ? true : null, problem: null };
  }

  function finish(job: Job, result: NotifyResult): void {
    if (result.sent) stats.sent++;
    job.resolve(result);
  }

  interface Slot {
    kill(): void;
  }
  const idleWaiters: Array<() => void> = [];

  function pump(): void {
    if (running !== null) return;
    const job = queue.shift();
    stats.queued = queue.length;
    if (!job) {
      for (const wake of idleWaiters.splice(0)) wake();
      return;
    }
    let done = false;
    const settle = (result: NotifyResult): void => {
      if (done) return;
      done = true;
      finish(job, result);
    };
    const slot: Slot = { kill: () => {} };
    running = slot;
    const release = (): void => {
      if (running !== slot) return;
      running = null;
      stats.inFlight = 0;
      queueMicrotask(pump);
    };
    if (useNotifySend) runNotifySend(job, slot, settle, release);
    else runNodeNotifier(job, slot, settle, release);
  }

  function started(): void {
    stats.spawned++;
    stats.inFlight = 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
  }

  function runNotifySend(job: Job, slot: Slot, settle: (r: NotifyResult) => void, release: () => void): void {
    binary = undefined; // look again each time, so installing libnotify-bin needs no restart
    const file = resolveBinary();
    if (file === null) {
      stats.failed++;
      settle({ sent: false, problem: MISSING_NOTIFY_SEND });
      release();
      return;
    }
    let child: ReturnType<typeof spawn>;
    try {
      // No shell, argv array: user text (reasons, names) is data, never a command.
      child = spawn(file, notifySendArgs(appName, job.title, job.message), {
        env,
        shell: false,
        stdio: ['ignore', 'ignore', 'pipe'],
        windowsHide: true,
      });
    } catch (error) {
      stats.failed++;
      const text = `could not start notify-send: ${(error as Error).message}`;
      report('failed', text);
      settle({ sent: false, problem: text });
      release();
      return;
    }
    let stderr = '';
    let timedOut = false;
    let exited = false;
    let reapTimer: NodeJS.Timeout | undefined;
    const killTimer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
      stats.timedOut++;
      stats.failed++;
      const text =
        `notify-send did not finish within ${timeoutMs} ms (the notification server on the D-Bus session bus ` +
        'is not answering), so it was killed';
      report('timeout', text);
      settle({ sent: false, problem: text });
      // If the process cannot be reaped, free the slot anyway so the daemon is never stuck.
      reapTimer = setTimeout(release, REAP_GRACE_MS);
    }, timeoutMs);
    started();
    slot.kill = () => child.kill('SIGKILL');
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (stderr.length < MAX_STDERR) stderr += chunk.slice(0, MAX_STDERR - stderr.length);
    });
    const onEnd = (code: number | null, signal: NodeJS.Signals | null, error?: Error): void => {
      if (exited) return;
      exited = true;
      clearTimeout(killTimer);
      if (reapTimer) clearTimeout(reapTimer);
      if (!timedOut) {
        if (error) {
          stats.failed++;
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
            binary = undefined;
            report('missing', MISSING_NOTIFY_SEND);
            settle({ sent: false, problem: MISSING_NOTIFY_SEND });
          } else {
            const text = `could not run notify-send: ${error.message}`;
            report('failed', text);
            settle({ sent: false, problem: text });
          }
        } else if (code === 0) {
          recovered();
          settle({ sent: true, problem: null });
        } else if (closed) {
          stats.failed++;
          settle({ sent: false, problem: 'notifier closed' });
        } else {
          stats.failed++;
          const detail = stderr.trim().split('\n')[0]?.slice(0, 300) || `exit ${code ?? signal}`;
          const text = /ServiceUnknown|not provided by any \.service|Cannot autolaunch|Could not connect/i.test(detail)
            ? `no notification server answered on the D-Bus session bus (notify-send: ${detail})`
            : `notify-send failed (${code === null ? `signal ${signal}` : `exit ${code}`}): ${detail}`;
          report('failed', text);
          settle({ sent: false, problem: text });
        }
      }
      release();
    };
    child.once('error', (error) => onEnd(null, null, error));
    child.once('close', (code, signal) => onEnd(code, signal));
  }

  function runNodeNotifier(job: Job, _slot: Slot, settle: (r: NotifyResult) => void, release: () => void): void {
    let finished = false;
    const end = (result: NotifyResult): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (result.sent) {
        recovered();
      } else {
        stats.failed++;
      }
      settle(result);
      release();
    };
    // node-notifier gives no handle to its child process: bound the wait, then free the slot.
    const timer = setTimeout(() => {
      stats.timedOut++;
      const text = `the desktop notifier did not finish within ${timeoutMs} ms`;
      report('timeout', text);
      end({ sent: false, problem: text });
    }, timeoutMs);
    started();
    import('node-notifier')
      .then((mod) => {
        const nn = (mod.default ?? mod) as typeof import('node-notifier');
        // Only backends that run their helper with execFile (argv, no shell); never NotifySend.
        const notifier =
          platform === 'darwin'
            ? new nn.NotificationCenter()
            : platform === 'win32'
              ? new nn.WindowsToaster()
              : undefined;
        if (!notifier) {
          const text = `desktop notifications are not supported on ${platform}`;
          report('unsupported', text);
          end({ sent: false, problem: text });
          return;
        }
        notifier.notify({ title: job.title, message: job.message || ' ', wait: false }, (err) => {
          if (err) {
            const text = `desktop notifier failed: ${String(err.message ?? err).slice(0, 300)}`;
            report('failed', text);
            end({ sent: false, problem: text });
          } else {
            end({ sent: true, problem: null });
          }
        });
      })
      .catch((error: unknown) => {
        const text = `desktop notifier unavailable: ${(error as Error).message}`;
        report('unsupported', text);
        end({ sent: false, problem: text });
      });
  }

  function notify(n: DesktopNotification): Promise<NotifyResult> {
    try {
      stats.requested++;
      if (closed) return Promise.resolve({ sent: false, problem: 'notifier closed' });
      const title = cleanText(n?.title, MAX_TITLE) || appName;
      const message = cleanText(n?.message, MAX_MESSAGE);
      if (useNotifySend && !binary && resolveBinary() === null) {
        stats.failed++;
        return Promise.resolve({ sent: false, problem: MISSING_NOTIFY_SEND });
      }
      const same = queue.find((j) => j.title === title && j.message === message);
      if (same) {
        stats.coalesced++;
        safeLog(`desktop notifications: merged a repeat of "${title}" into the one already waiting`);
        return same.promise;
      }
      let resolve!: (r: NotifyResult) => void;
      const promise = new Promise<NotifyResult>((r) => (resolve = r));
      const job: Job = { title, message, resolve, promise };
      queue.push(job);
      while (queue.length > maxQueue && (running !== null || queue.length > 1)) {
        const oldest = queue.shift();
        if (!oldest) break;
        stats.dropped++;
        safeLog(
          `desktop notifications: dropped "${oldest.title}" (the notifier is busy and ${maxQueue} more are waiting)`,
        );
        oldest.resolve({ sent: false, problem: 'dropped: too many notifications waiting for a slow notifier' });
      }
      stats.queued = queue.length;
      pump();
      return promise;
    } catch (error) {
      return Promise.resolve({ sent: false, problem: `notify failed: ${(error as Error)?.message ?? error}` });
    }
  }

  async function close(): Promise<void> {
    closed = true;
    for (const job of queue.splice(0)) job.resolve({ sent: false, problem: 'notifier closed' });
    stats.queued = 0;
    if (running === null) return;
    const idle = new Promise<void>((resolve) => idleWaiters.push(resolve));
    running.kill();
    await Promise.race([idle, new Promise((resolve) => setTimeout(resolve, REAP_GRACE_MS).unref())]);
  }

  return { notify, health, stats: () => ({ ...stats }), close };
}
