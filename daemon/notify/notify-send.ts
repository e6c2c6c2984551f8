import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { REAP_GRACE_MS, type Attempt, type NotificationAction, type Running } from './backend';

const MAX_STDERR = 4_096;
/** The name notify-send prints on stdout when the person clicks the notification's action. */
const ACTION_NAME = 'open';
/** How long a notification with an action waits for its click, by default. */
const ACTION_LIFETIME_MS = 3_600_000;

export const MISSING_NOTIFY_SEND =
  'notify-send was not found on PATH, so desktop notifications are off: install libnotify-bin ' +
  '(Debian/Ubuntu: sudo apt install libnotify-bin; Fedora: sudo dnf install libnotify)';

/**
 * Finds an executable on a PATH string, like `which`. A directory without it is no exception
 * (`throwIfNoEntry: false`): each ENOENT made an error object with its stack, at every start.
 */
export function findOnPath(name: string, pathVar: string | undefined): string | null {
  for (const dir of (pathVar ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      if (!statSync(candidate, { throwIfNoEntry: false })?.isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here (not a directory on PATH, not ours to read or run)
    }
  }
  return null;
}

/**
 * notify-send (libnotify ≥ 0.8) runs the body through g_strcompress, which turns `\n`, `\x…`
 * and friends into characters; doubling backslashes makes the body arrive verbatim.
 */
export function escapeNotifySendBody(body: string): string {
  return body.replace(/\\/g, '\\\\');
}

/**
 * argv for notify-send. `--` ends option parsing, so a title starting with `-` is not an option.
 * With an action (libnotify ≥ 0.8): `--print-id` says the notification was shown, `--action`
 * (which implies `--wait`) prints the action's name when it is clicked.
 */
export function notifySendArgs(appName: string, title: string, message: string, action?: NotificationAction): string[] {
  const act = action ? ['--print-id', `--action=${ACTION_NAME}=${action.label}`] : [];
  return [`--app-name=${appName}`, ...act, '--', title, escapeNotifySendBody(message)];
}

/**
 * Reads notify-send's stdout for a notification with an action: its id line means shown (the
 * attempt is settled and its slot released, the process waits on for the click, at most the
 * action's lifetime); the action's name means clicked.
 */
function watchAction(
  attempt: Attempt,
  action: NotificationAction,
  child: ReturnType<typeof spawn>,
  shown: () => void,
): void {
  let out = '';
  let forget = (): void => undefined;
  let lifetime: NodeJS.Timeout | undefined;
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    out = (out + chunk).slice(-1024);
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl).trim();
      out = out.slice(nl + 1);
      if (/^\d+$/.test(line) && !lifetime) {
        shown();
        forget = attempt.linger(() => child.kill('SIGKILL'));
        lifetime = setTimeout(() => child.kill('SIGKILL'), action.lifetimeMs ?? ACTION_LIFETIME_MS);
        lifetime.unref();
        attempt.settle({ sent: true });
        attempt.release();
      } else if (line === ACTION_NAME) {
        try {
          action.invoked();
        } catch {
          // the opener reports its own problems
        }
      }
    }
  });
  child.once('close', () => {
    clearTimeout(lifetime);
    forget();
  });
}

/**
 * Runs `file` (notify-send) for one notification, with an argument array and no shell
 * (node-notifier's own notify-send backend builds a command string for `/bin/sh` and gives no way
 * to kill a hung process). Killed at the attempt's timeout; its slot is freed once it is reaped,
 * or {@link REAP_GRACE_MS} later at the latest.
 */
export function runNotifySend(attempt: Attempt, file: string, appName: string, env: NodeJS.ProcessEnv): Running {
  let child: ReturnType<typeof spawn>;
  // notify-send block-buffers its stdout into a pipe: its id line (shown) would come only at exit.
  // stdbuf (coreutils) makes it line-buffered; without stdbuf the notification has no button.
  const stdbuf = attempt.action ? findOnPath('stdbuf', env.PATH) : null;
  const action = stdbuf ? attempt.action : undefined;
  const argv = notifySendArgs(appName, attempt.title, attempt.message, action);
  try {
    // No shell, argv array: user text (reasons, names) is data, never a command.
    child = spawn(stdbuf ?? file, stdbuf ? ['-oL', file, ...argv] : argv, {
      env,
      shell: false,
      stdio: ['ignore', action ? 'pipe' : 'ignore', 'pipe'],
      windowsHide: true,
    });
  } catch (error) {
    attempt.settle({
      sent: false,
      kind: 'failed',
      problem: `could not start notify-send: ${(error as Error).message}`,
    });
    attempt.release();
    return { kill: () => undefined };
  }
  let stderr = '';
  let timedOut = false;
  let exited = false;
  let reapTimer: NodeJS.Timeout | undefined;
  const killTimer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
    attempt.settle({
      sent: false,
      kind: 'timeout',
      timedOut: true,
      problem:
        `notify-send did not finish within ${attempt.timeoutMs} ms (the notification server on the D-Bus session bus ` +
        'is not answering), so it was killed',
    });
    // If the process cannot be reaped, free the slot anyway so the daemon is never stuck.
    reapTimer = setTimeout(() => attempt.release(), REAP_GRACE_MS);
  }, attempt.timeoutMs);
  attempt.started();
  // Shown: the time limit was for the notification server's answer, not for the person's click.
  if (action) watchAction(attempt, action, child, () => clearTimeout(killTimer));
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    if (stderr.length < MAX_STDERR) stderr += chunk.slice(0, MAX_STDERR - stderr.length);
  });
  const onEnd = (code: number | null, signal: NodeJS.Signals | null, error?: Error): void => {
    if (exited) return;
    exited = true;
    clearTimeout(killTimer);
    if (reapTimer) clearTimeout(reapTimer);
    if (timedOut) {
      // settled by the timeout already
    } else if (error) {
      attempt.settle(
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? { sent: false, kind: 'missing', problem: MISSING_NOTIFY_SEND }
          : { sent: false, kind: 'failed', problem: `could not run notify-send: ${error.message}` },
      );
    } else if (code === 0) {
      attempt.settle({ sent: true });
    } else if (attempt.closed()) {
      attempt.settle({ sent: false, problem: 'notifier closed' });
    } else {
      const detail = stderr.trim().split('\n')[0]?.slice(0, 300) || `exit ${code ?? signal}`;
      const problem = /ServiceUnknown|not provided by any \.service|Cannot autolaunch|Could not connect/i.test(detail)
        ? `no notification server answered on the D-Bus session bus (notify-send: ${detail})`
        : `notify-send failed (${code === null ? `signal ${signal}` : `exit ${code}`}): ${detail}`;
      attempt.settle({ sent: false, kind: 'failed', problem });
    }
    attempt.release();
  };
  child.once('error', (error) => onEnd(null, null, error));
  child.once('close', (code, signal) => onEnd(code, signal));
  return { kill: () => child.kill('SIGKILL') };
}
