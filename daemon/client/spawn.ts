import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BellaError } from '../api/errors';
import { DaemonClient } from './client';

/** How to start a daemon when none answers. */
export interface EnsureDaemonOptions {
  home: string;
  socket: string;
  /** The built daemon entry (`dist/daemon.js`). */
  daemonScript: string;
  /** The program that runs it: node, or Electron's own binary with ELECTRON_RUN_AS_NODE=1. */
  execPath?: string;
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the new daemon to answer. */
  startTimeoutMs?: number;
}

/** The daemon's log file inside a data directory. */
export function daemonLogPath(home: string): string {
  return path.join(home, 'daemon.log');
}

/**
 * Returns a client of the daemon on `socket`, starting a detached one that outlives this
 * process when none answers. Concurrent callers may both spawn; the daemon's own
 * single-instance lock lets exactly one of them serve.
 */
export async function ensureDaemon(options: EnsureDaemonOptions): Promise<{ client: DaemonClient; started: boolean }> {
  const client = new DaemonClient({ socketPath: options.socket });
  if (await client.ping()) return { client, started: false };
  startDaemonProcess(options);
  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    if (await client.ping()) return { client, started: true };
  }
  throw new BellaError(
    'unavailable',
    `the bella daemon did not start within ${options.startTimeoutMs ?? 10_000} ms: see ${daemonLogPath(options.home)}`,
  );
}

/** Spawns a detached daemon whose output goes to the data directory's log file. */
export function startDaemonProcess(options: EnsureDaemonOptions): void {
  fs.mkdirSync(options.home, { recursive: true, mode: 0o700 });
  const log = fs.openSync(daemonLogPath(options.home), 'a', 0o600);
  const child = spawn(
    options.execPath ?? process.execPath,
    [options.daemonScript, '--home', options.home, '--socket', options.socket],
    { detached: true, stdio: ['ignore', log, log], env: options.env ?? process.env, windowsHide: true },
  );
  child.unref();
  fs.closeSync(log);
}
