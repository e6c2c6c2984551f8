import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BellaError } from '../api/errors';
import { DaemonClient } from './client';
import { daemonLockHolder } from './paths';

/** How to start a daemon when none answers. */
export interface EnsureDaemonOptions {
  home: string;
  socket: string;
  /** The built daemon entry (`dist/daemon.cjs`). */
  daemonScript: string;
  /** The program that runs it: node, or Electron's own binary with ELECTRON_RUN_AS_NODE=1. */
  execPath?: string;
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the new daemon to answer. */
  startTimeoutMs?: number;
  /** Extra daemon flags, e.g. `--accept-rollback`. */
  args?: readonly string[];
}

/** The daemon's log file inside a data directory. */
export function daemonLogPath(home: string): string {
  return path.join(home, 'daemon.log');
}

/** A daemon process just started: its log, and whether (and how) it has exited. */
export interface Started {
  pid: number | undefined;
  log: string;
  /** Size of the log before the daemon started: what it wrote since is its own. */
  offset: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
}

/**
 * Returns a client of the daemon on `socket`, starting a detached one that outlives this
 * process when none answers. If the new daemon exits before it answers, its own reason (the
 * `error: …` line it wrote to its log) is the error. Concurrent callers may both spawn; the
 * daemon's single-instance lock lets exactly one of them serve.
 */
export async function ensureDaemon(options: EnsureDaemonOptions): Promise<{ client: DaemonClient; started: boolean }> {
  const client = new DaemonClient({ socketPath: options.socket });
  if (await client.ping()) return { client, started: false };
  const started = await startDaemonProcess(options);
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const tick = new Promise((r) => setTimeout(r, 25));
    // Woken early when the new daemon exits; after that, a plain wait for the one that won.
    await (started.hasExited() ? tick : Promise.race([tick, started.exited]));
    if (await client.ping()) {
      await settled(started, options.home, deadline);
      return { client, started: true };
    }
    if (started.hasExited()) {
      // Another daemon may have won the start-up race and be serving, or still starting: that
      // one is waited for; only a daemon that nobody replaces is a failure.
      if (await client.ping()) return { client, started: false };
      const holder = daemonLockHolder(options.home);
      if (holder !== undefined && holder !== started.pid) continue;
      const { code, signal } = await started.exited;
      const reason = daemonReason(started) ?? (signal ? `killed by ${signal}` : `exit code ${code}`);
      throw new BellaError('unavailable', `the bella daemon could not start: ${reason} (log: ${started.log})`);
    }
  }
  throw new BellaError('unavailable', `the bella daemon did not start within ${timeoutMs} ms: see ${started.log}`);
}

/**
 * Waits until the daemon this process spawned has either exited or taken the data dir's lock.
 * Another daemon may answer first (commands started together each spawn one): a spawned daemon
 * still starting when its caller returns would take the lock later, once the first one stopped,
 * and serve a data dir nobody is using any more.
 */
async function settled(started: Started, home: string, deadline: number): Promise<void> {
  while (!started.hasExited() && daemonLockHolder(home) !== started.pid && Date.now() < deadline) {
    await Promise.race([new Promise((r) => setTimeout(r, 25)), started.exited]);
  }
}

/**
 * The one line that says why the daemon stopped, from what it wrote to its log: its own
 * `error: …` line, else the first line of an uncaught error (`Error: EROFS: …`).
 */
export function reasonFromLog(text: string): string | undefined {
  const lines = text.split('\n').map((l) => l.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, '').trim());
  const own = lines.filter((l) => l.startsWith('error: ')).pop();
  if (own) return own.slice('error: '.length);
  const thrown = lines.find((l) => /^(?:[A-Z][A-Za-z]*)?Error(?: \[[A-Z_]+\])?: /.test(l));
  if (thrown) return thrown;
  return undefined;
}

function daemonReason(started: Started): string | undefined {
  try {
    const fd = fs.openSync(started.log, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const length = Math.min(size - started.offset, 64 * 1024);
      if (length <= 0) return undefined;
      const buffer = Buffer.alloc(length);
      fs.readSync(fd, buffer, 0, length, size - length);
      return reasonFromLog(buffer.toString('utf8'));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/**
 * Opens the log in the data directory; where that cannot be written (a read-only or missing
 * data directory) a private temp file takes its place, so the daemon's reason is still seen.
 */
function openLog(home: string): { fd: number; log: string; offset: number } {
  const log = daemonLogPath(home);
  try {
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    const fd = fs.openSync(log, 'a', 0o600);
    return { fd, log, offset: fs.fstatSync(fd).size };
  } catch {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-start-'));
    const fallback = path.join(dir, 'daemon.log');
    return { fd: fs.openSync(fallback, 'a', 0o600), log: fallback, offset: 0 };
  }
}

/** Spawns a detached daemon whose output goes to the data directory's log file. */
export async function startDaemonProcess(options: EnsureDaemonOptions): Promise<Started> {
  // Loaded here only: the CLI bundles this module and most commands never start a daemon.
  const { spawn } = await import('node:child_process');
  const { fd, log, offset } = openLog(options.home);
  const child = spawn(
    options.execPath ?? process.execPath,
    [options.daemonScript, '--home', options.home, '--socket', options.socket, ...(options.args ?? [])],
    { detached: true, stdio: ['ignore', fd, fd], env: options.env ?? process.env, windowsHide: true },
  );
  fs.closeSync(fd);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    child.once('error', () => {
      done = true;
      resolve({ code: null, signal: null });
    });
  });
  child.unref();
  return { pid: child.pid, log, offset, exited, hasExited: () => done };
}
