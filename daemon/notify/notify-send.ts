import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { REAP_GRACE_MS, type Attempt, type Running } from './backend';

const MAX_STDERR = 4_096;

export const MISSING_NOTIFY_SEND =
  'notify-send was not found on PATH, so desktop notifications are off: install libnotify-bin ' +
  '(Debian/Ubuntu: sudo apt install libnotify-bin; Fedora: sudo dnf install libnotify)';

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
 * Runs `file` (notify-send) for one notification, with an argument array and no shell
 * (node-notifier's own notify-send backend builds a command string for `/bin/sh` and gives no way
 * to kill a hung process). Killed at the attempt's timeout; its slot is freed once it is reaped,
 * or {@link REAP_GRACE_MS} later at the latest.
 */
export function runNotifySend(attempt: Attempt, file: string, appName: string, env: NodeJS.ProcessEnv): Running {
  let child: ReturnType<typeof spawn>;
  try {
    // No shell, argv array: user text (reasons, names) is data, never a command.
    child = spawn(file, notifySendArgs(appName, attempt.title, attempt.message), {
      env,
      shell: false,
      stdio: ['ignore', 'ignore', 'pipe'],
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
