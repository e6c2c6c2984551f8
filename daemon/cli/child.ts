import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import { escapeControls } from '../base/common/terminal-text';
import type { CliIO } from './session';

/**
 * Signals `bella run` passes on to its command. SIGUSR1 is among them: main.ts listens for it
 * from the start, which also keeps Node's inspector from opening on it.
 */
export const FORWARDED_SIGNALS = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;

/**
 * Signals a terminal sends to its whole foreground process group (Ctrl-C, Ctrl-\, a resize):
 * the command, in bella's group, gets them itself, so on a terminal they are not sent twice.
 */
const TERMINAL_SIGNALS: ReadonlySet<string> = new Set(['SIGINT', 'SIGQUIT', 'SIGWINCH']);

/**
 * A watchdog for when bella dies without passing on a signal (kill -9, a crash): it reads its
 * stdin, a pipe only bella holds, which closes when bella is gone. bella writes `exited` when
 * the command has ended and `done` once its clean-up is over. If the pipe closes while the
 * command runs, the watchdog says so on stderr, sends it SIGTERM (SIGKILL after 10 s) and runs
 * the clean-up command (revoking a per-run lease); if it closes after `exited`, only the
 * clean-up. Defends against a command holding secrets in its environment outliving bella
 * silently, reparented to PID 1, and against a per-run lease outliving its run.
 */
const GUARD = `
trap '' HUP INT QUIT TERM USR1 USR2 WINCH
child=$1; parent=$2; label=$3; shift 3
read -r line || line=
[ "$line" = done ] && exit 0
if [ "$line" = exited ]; then
  read -r line || line=
  [ "$line" = done ] && exit 0
elif kill -0 "$child" 2>/dev/null; then
  printf 'bella: bella (pid %s) ended while %s (pid %s) ran: stopping it\\n' "$parent" "$label" "$child" >&2
  kill -TERM "$child" 2>/dev/null
  i=0
  while [ "$i" -lt 10 ] && kill -0 "$child" 2>/dev/null; do sleep 1; i=$((i + 1)); done
  kill -KILL "$child" 2>/dev/null
fi
[ "$#" -gt 0 ] && "$@" >/dev/null 2>&1
exit 0
`;

/** What to run and how. */
export interface ChildSpec {
  file: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Shown in messages: the command as the user typed it. */
  label: string;
  /** Run by the watchdog if bella dies before {@link runChild}'s `afterExit` is done (e.g. revoking a per-run lease). */
  cleanup?: readonly string[];
  /** The watchdog's environment, and so its clean-up's (never on its command line: `ps` shows that); bella's own by default. */
  cleanupEnv?: NodeJS.ProcessEnv;
}

type Spawn = (typeof import('node:child_process'))['spawn'];

function startGuard(spawn: Spawn, child: ChildProcess, spec: ChildSpec): ChildProcess | undefined {
  if (process.platform === 'win32' || child.pid === undefined) return undefined;
  try {
    const guard = spawn(
      '/bin/sh',
      [
        '-c',
        GUARD,
        'bella-guard',
        String(child.pid),
        String(process.pid),
        escapeControls(spec.label),
        ...(spec.cleanup ?? []),
      ],
      {
        stdio: ['pipe', 'ignore', 'inherit'],
        detached: true,
        ...(spec.cleanupEnv ? { env: spec.cleanupEnv } : {}),
      },
    );
    guard.on('error', () => {});
    guard.stdin?.on('error', () => {});
    guard.unref();
    (guard.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return guard;
  } catch {
    return undefined;
  }
}

/** How a command ended: `code` is its exit code, 128+n when signal n ended it, 127/126 when it could not run. */
export interface ChildResult {
  code: number;
  signal: NodeJS.Signals | null;
}

/** `exited 0`, `killed by SIGTERM`, for the audit trail. */
export function describeEnd(result: ChildResult): string {
  return result.signal ? `killed by ${result.signal}` : `exited ${result.code}`;
}

/**
 * Runs a command with stdio inherited, passing signals on, and waits for it to end and for
 * `afterExit` (the clean-up the watchdog would otherwise do) to finish.
 */
export async function runChild(
  io: CliIO,
  spec: ChildSpec,
  afterExit?: (result: ChildResult) => Promise<void>,
): Promise<ChildResult> {
  // Loaded here: only `bella run` spawns anything.
  const { spawn } = await import('node:child_process');
  const onTerminal = io.stdoutIsTTY || io.stderrIsTTY;
  return new Promise<ChildResult>((resolve) => {
    const child = spawn(spec.file, [...spec.args], { stdio: 'inherit', env: spec.env, cwd: spec.cwd });
    const guard = startGuard(spawn, child, spec);
    const handlers = FORWARDED_SIGNALS.map((signal) => {
      const handler = () => {
        if (onTerminal && TERMINAL_SIGNALS.has(signal)) return;
        try {
          child.kill(signal);
        } catch {
          // already gone
        }
      };
      process.on(signal, handler);
      return [signal, handler] as const;
    });
    let settled = false;
    const finish = (code: number, signal: NodeJS.Signals | null = null) => {
      if (settled) return;
      settled = true;
      for (const [sig, handler] of handlers) process.off(sig, handler);
      const result = { code, signal };
      guard?.stdin?.write('exited\n');
      void (afterExit?.(result) ?? Promise.resolve()).finally(() => {
        guard?.stdin?.end('done\n');
        resolve(result);
      });
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        io.stderr(`error: cannot run ${escapeControls(spec.file)}: command not found\n`);
        finish(127);
      } else if (err.code === 'EACCES') {
        io.stderr(`error: cannot run ${escapeControls(spec.file)}: permission denied\n`);
        finish(126);
      } else {
        io.stderr(`error: cannot run ${escapeControls(spec.file)}: ${err.message}\n`);
        finish(126);
      }
    });
    child.on('exit', (code, signal) => {
      finish(signal ? 128 + (os.constants.signals[signal] ?? 0) : (code ?? 0), signal);
    });
  });
}
