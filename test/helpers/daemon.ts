import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { daemonScript, ensureBuilt } from './build';
import { DaemonClient } from '../../daemon/client';
import { toDotenv } from '../../daemon/cli/secret-formats';

export { cliScript, daemonScript, distDir, repoRoot } from './build';
/** Builds the daemon and CLI when stale (kept under this name for the bench). */
export const ensureDaemonBuilt = ensureBuilt;

/** A scratch place for one daemon: a data dir and a short socket path under /tmp. */
export interface DaemonPlace {
  /** Parent temp directory holding everything of this place. */
  root: string;
  home: string;
  socket: string;
  /** Where the daemon's stdout and stderr go (outside the data dir unless asked otherwise). */
  logFile: string;
  /** Removes the temp directory. */
  cleanup(): void;
}

/**
 * Makes a temp place. The socket lives in a short /tmp path because Unix socket paths are
 * limited to ~107 bytes; `logInHome` puts the log at `<home>/daemon.log` as `bella daemon start` does.
 */
export function tempPlace(prefix = 'bella-t', options: { logInHome?: boolean } = {}): DaemonPlace {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  const home = path.join(root, 'home');
  const sockDir = path.join(root, 's');
  fs.mkdirSync(sockDir, { mode: 0o700 });
  return {
    root,
    home,
    socket: path.join(sockDir, `${randomBytes(3).toString('hex')}.sock`),
    logFile: options.logInHome ? path.join(home, 'daemon.log') : path.join(root, 'daemon.log'),
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

/** How a daemon child process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A daemon running as a child process (`node dist/daemon.cjs --home H --socket S`). */
export interface DaemonHandle {
  home: string;
  socket: string;
  logFile: string;
  pid: number;
  proc: ChildProcess;
  /** A client of this daemon (closed by stop/kill9). */
  client: DaemonClient;
  /** Resolves when the process has ended. */
  exited: Promise<Exit>;
  /** Kills the process with SIGKILL and waits for it to be gone. */
  kill9(): Promise<Exit>;
  /** SIGTERM (graceful stop) and waits for it to end. */
  stop(): Promise<Exit>;
  /** Resident set size of the daemon now, in MiB (from /proc). */
  rssMb(): number;
}

/** Options for {@link startDaemon}. */
export interface StartOptions {
  home: string;
  socket: string;
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  /** Extra daemon flags, e.g. `--accept-rollback`. */
  args?: string[];
  timeoutMs?: number;
  /** Client request timeout. */
  clientTimeoutMs?: number;
  /** Another build's daemon entry (an earlier release's, for migration tests); default this build's. */
  script?: string;
}

function spawnDaemon(options: StartOptions): { proc: ChildProcess; exited: Promise<Exit> } {
  fs.mkdirSync(path.dirname(options.logFile), { recursive: true, mode: 0o700 });
  const log = fs.openSync(options.logFile, 'a', 0o600);
  const proc = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      options.script ?? daemonScript,
      '--home',
      options.home,
      '--socket',
      options.socket,
      ...(options.args ?? []),
    ],
    { stdio: ['ignore', log, log], env: { ...process.env, ...options.env } },
  );
  fs.closeSync(log);
  const exited = new Promise<Exit>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  return { proc, exited };
}

/** Reads a file, or '' when it does not exist. */
export function readLog(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Starts a daemon child process and waits until it answers on its socket. */
export async function startDaemon(options: StartOptions): Promise<DaemonHandle> {
  ensureDaemonBuilt();
  const { proc, exited } = spawnDaemon(options);
  let gone: Exit | null = null;
  void exited.then((e) => (gone = e));
  const client = new DaemonClient({ socketPath: options.socket, timeoutMs: options.clientTimeoutMs ?? 60_000 });
  const probe = new DaemonClient({ socketPath: options.socket, timeoutMs: 2000 });
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  try {
    for (;;) {
      if (gone) {
        throw new Error(
          `daemon exited during start (${JSON.stringify(gone)}); log ${options.logFile}:\n${readLog(options.logFile)}`,
        );
      }
      if (await probe.ping().catch(() => false)) break;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`daemon did not answer on ${options.socket}; log:\n${readLog(options.logFile)}`);
      }
      // Short: the bench's cold start is this loop's time (a probe of a socket not there yet is one failed connect).
      await sleep(5);
    }
  } finally {
    probe.close();
  }
  const pid = proc.pid!;
  return {
    home: options.home,
    socket: options.socket,
    logFile: options.logFile,
    pid,
    proc,
    client,
    exited,
    async kill9() {
      client.close();
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      return exited;
    },
    async stop() {
      client.close();
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      const e = await exited;
      clearTimeout(timer);
      return e;
    },
    rssMb: () => rssMb(pid),
  };
}

/** Starts a daemon in a {@link DaemonPlace}. */
export function startIn(place: DaemonPlace, extra: Partial<StartOptions> = {}): Promise<DaemonHandle> {
  return startDaemon({ home: place.home, socket: place.socket, logFile: place.logFile, ...extra });
}

/** Restarts a daemon on the same data dir and socket (after kill9 or stop). */
export async function restartDaemon(handle: DaemonHandle, extra: Partial<StartOptions> = {}): Promise<DaemonHandle> {
  await handle.exited;
  return startDaemon({ home: handle.home, socket: handle.socket, logFile: handle.logFile, ...extra });
}

/**
 * Runs a daemon that is expected to refuse to start: returns its exit and output, killing it
 * (and failing) if it starts serving instead.
 */
export async function startExpectingRefusal(
  options: Omit<StartOptions, 'logFile'>,
): Promise<Exit & { output: string; served: boolean }> {
  ensureDaemonBuilt();
  const proc = spawn(process.execPath, [daemonScript, '--home', options.home, '--socket', options.socket], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let output = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<Exit>((resolve) => proc.once('close', (code, signal) => resolve({ code, signal })));
  const probe = new DaemonClient({ socketPath: options.socket, timeoutMs: 1000 });
  let served = false;
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let done: Exit | null = null;
  void exited.then((e) => (done = e));
  while (!done && Date.now() < deadline) {
    if (await probe.ping().catch(() => false)) {
      served = true;
      proc.kill('SIGKILL');
      break;
    }
    await sleep(25);
  }
  probe.close();
  if (!done && !served) proc.kill('SIGKILL');
  const e = await exited;
  return { ...e, output, served };
}

/** RSS of a process in MiB, from /proc/PID/status. */
export function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

/** Sleeps. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One raw HTTP exchange over a Unix socket, for requests the typed client would never send. */
export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Sends one raw HTTP request over a Unix socket. */
export function rawRequest(
  socketPath: string,
  req: { method: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
  agent?: http.Agent,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const r = http.request(
      { socketPath, method: req.method, path: req.path, headers: req.headers, agent, timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`timeout: ${req.method} ${req.path}`)));
    r.on('error', reject);
    r.end(req.body);
  });
}

/** Creates a project, an environment and secrets through the API; returns their slugs. */
export async function seed(
  client: DaemonClient,
  project = 'app',
  environment = 'prod',
  secrets: Record<string, string> = { API_KEY: 'k-1', DB_URL: 'postgres://x', STRIPE_KEY: 'sk_live_1' },
): Promise<{ project: string; environment: string }> {
  await client.call('createProject', { slug: project, name: project });
  await client.call('createEnvironment', { project, slug: environment, name: environment });
  await client.call('importSecrets', { project, environment, dotenv: toDotenv(secrets) });
  return { project, environment };
}

/**
 * Asks the daemon on `socket` to stop and waits until it is gone (its lock released), so a
 * test removes a data dir only once nothing writes to it any more.
 */
export async function shutdownAndWait(socket: string, home: string, timeoutMs = 15_000): Promise<void> {
  const client = new DaemonClient({ socketPath: socket, timeoutMs: 5000 });
  await client.call('shutdown', {}).catch(() => undefined);
  client.close();
  const lock = path.join(home, 'daemon.pid');
  const deadline = Date.now() + timeoutMs;
  while (fs.existsSync(lock) && Date.now() < deadline) await sleep(20);
}

/** `GET /v1/secrets` with a token (or none), straight over the socket. */
export function tokenRead(
  socket: string,
  token: string | null,
  options: { keys?: string; agent?: http.Agent } = {},
): Promise<RawResponse> {
  return rawRequest(
    socket,
    {
      method: 'GET',
      path: options.keys ? `/v1/secrets?keys=${encodeURIComponent(options.keys)}` : '/v1/secrets',
      headers: token ? { authorization: `Bearer ${token}` } : {},
    },
    options.agent,
  );
}

/** A TCP port free on 127.0.0.1 right now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
