import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { cliScript, ensureBuilt } from './build';

export { ensureBuilt, repoRoot } from './build';
/** The built CLI every test runs as a child process (BELLA_TEST_DIST points at another build). */
export const cliPath = cliScript;

/** What one CLI run produced. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options for one CLI (or shell) run. */
export interface RunOptions {
  /** Written to stdin, which is then closed (stdin is a pipe, never a TTY). */
  input?: string;
  /** Extra environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  timeoutMs?: number;
}

/** Collects a child's output and waits for it to end. */
export function collect(child: ChildProcess, input?: string, timeoutMs = 20_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeoutMs} ms: ${child.spawnargs.join(' ')}\n${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}

/** True while a process with `pid` exists. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` until it returns a truthy value or the time is up. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  what: string,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * An HTTP exchange straight over a Unix socket, bypassing the client. The headers go first and
 * the body follows in chunks only if the server has not answered yet, stopping as soon as it
 * does, so an early answer (e.g. to an oversized body) is read before the server closes.
 */
export function rawRequest(
  socketPath: string,
  req: { method: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let responded = false;
    let answered: { status: number; body: string } | undefined;
    const body = req.body === undefined ? undefined : Buffer.from(req.body);
    const headers = { ...req.headers, ...(body ? { 'content-length': String(body.length) } : {}) };
    const r = http.request({ socketPath, method: req.method, path: req.path, headers }, (res) => {
      responded = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        answered = { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') };
        resolve(answered);
        r.destroy();
      });
      res.on('error', (err) => (answered ? resolve(answered) : reject(err)));
    });
    r.on('error', (err) => {
      if (answered) resolve(answered);
      else if (!responded) reject(err);
    });
    if (!body) {
      r.end();
      return;
    }
    r.flushHeaders();
    let offset = 0;
    const pump = (): void => {
      while (!responded && offset < body.length) {
        const chunk = body.subarray(offset, offset + 65536);
        offset += chunk.length;
        if (!r.write(chunk)) {
          r.once('drain', pump);
          return;
        }
      }
      if (!responded) r.end();
    };
    // Give the server a moment to answer from the headers alone (a Content-Length over its limit).
    const pause = setTimeout(pump, 2000);
    r.once('response', () => clearTimeout(pause));
  });
}

/**
 * An isolated bella: a temp data directory and a short socket path under /tmp, the built CLI
 * run as a child process with BELLA_HOME/BELLA_SOCKET, and a daemon stopped by {@link stop}.
 */
export class BellaSandbox {
  readonly home: string;
  readonly socket: string;
  /** A directory with a `bella` executable, for shell scripts that call `bella …`. */
  readonly binDir: string;
  /** A scratch working directory (for `.bella`, .env files…). */
  readonly workDir: string;
  private readonly root: string;

  constructor() {
    ensureBuilt();
    // Short paths: a Unix socket path must stay under ~104 bytes.
    this.root = fs.mkdtempSync('/tmp/bt-');
    this.home = path.join(this.root, 'h');
    this.socket = path.join(this.home, 'run', 'bella.sock');
    this.binDir = path.join(this.root, 'bin');
    this.workDir = path.join(this.root, 'w');
    fs.mkdirSync(this.binDir);
    fs.mkdirSync(this.workDir);
    fs.writeFileSync(
      path.join(this.binDir, 'bella'),
      `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(cliPath)} "$@"\n`,
      { mode: 0o755 },
    );
  }

  /** The environment a CLI child runs with. */
  env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      BELLA_HOME: this.home,
      BELLA_SOCKET: this.socket,
      BELLA_TOKEN: undefined,
      PATH: `${this.binDir}${path.delimiter}${process.env.PATH ?? ''}`,
    };
    for (const [k, v] of Object.entries(extra)) env[k] = v;
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    return env;
  }

  /** Starts `bella ARGS…` without waiting (for signals and foreground runs). */
  spawn(args: string[], opts: RunOptions = {}): ChildProcess {
    return spawn(process.execPath, [cliPath, ...args], {
      env: this.env(opts.env),
      cwd: opts.cwd ?? this.workDir,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  }

  /** Runs `bella ARGS…` and returns its exit code and output. */
  run(args: string[], opts: RunOptions = {}): Promise<CliResult> {
    return collect(this.spawn(args, opts), opts.input, opts.timeoutMs);
  }

  /** Runs `bella ARGS…`, failing with its stderr unless it exits 0; returns stdout. */
  async ok(args: string[], opts: RunOptions = {}): Promise<string> {
    const res = await this.run(args, opts);
    if (res.code !== 0) {
      throw new Error(`bella ${args.join(' ')} exited ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
    }
    return res.stdout;
  }

  /** Runs `bella ARGS… --json` and parses stdout. */
  async json<T = Record<string, unknown>>(args: string[], opts: RunOptions = {}): Promise<T> {
    return JSON.parse(await this.ok([...args, '--json'], opts)) as T;
  }

  /** Runs a shell script with `bella` on PATH. */
  shell(script: string, opts: RunOptions = {}): Promise<CliResult> {
    const child = spawn('/bin/sh', ['-c', script], {
      env: this.env(opts.env),
      cwd: opts.cwd ?? this.workDir,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return collect(child, opts.input, opts.timeoutMs);
  }

  /** The running daemon's pid (starts one if none runs). */
  async daemonPid(): Promise<number> {
    return (await this.json<{ pid: number }>(['daemon', 'status'])).pid;
  }

  /** True when a daemon answers on the socket. */
  async answering(): Promise<boolean> {
    try {
      const res = await rawRequest(this.socket, { method: 'GET', path: '/v1/status' });
      return res.status === 200;
    } catch {
      return false;
    }
  }

  /** Kills the daemon with SIGKILL (no cleanup) and waits until it stops answering. */
  async killDaemon(): Promise<number> {
    const pid = await this.daemonPid();
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => !(await this.answering()), 'the killed daemon to stop answering');
    return pid;
  }

  /** Stops the daemon (gracefully, else SIGKILL) and removes the sandbox. */
  async stop(): Promise<void> {
    if (await this.answering()) {
      let pid: number | undefined;
      try {
        pid = JSON.parse((await rawRequest(this.socket, { method: 'GET', path: '/v1/status' })).body).pid;
      } catch {
        pid = undefined;
      }
      const res = await this.run(['daemon', 'stop']).catch(() => undefined);
      if (res?.code !== 0 && pid) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      // The daemon writes its last snapshot after it stops answering: remove the sandbox once it has exited.
      if (pid) await waitFor(() => !processAlive(pid), `daemon ${pid} to exit`, 15_000);
    }
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** Every regular file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full));
    else out.push(full);
  }
  return out;
}

/** The single error line a failed command printed, asserting there is exactly one. */
export function oneErrorLine(res: CliResult): string {
  const lines = res.stderr.split('\n').filter((l) => l.length > 0);
  if (lines.length !== 1 || !lines[0]?.startsWith('error: ')) {
    throw new Error(`expected one "error: …" line on stderr, got:\n${res.stderr}`);
  }
  return lines[0];
}
