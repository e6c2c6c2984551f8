import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { DaemonClient } from '../daemon/client';
import { childReady, stopChild } from './baselines';
import {
  freePort,
  repoRoot,
  sleep,
  startIn,
  tempPlace,
  type DaemonHandle,
  type DaemonPlace,
} from '../test/helpers/daemon';

export { freePort };

/** Where profiles go when BENCH_PROFILE=1. */
export const profileDir = path.join(os.tmpdir(), 'bella-bench-profiles');

/** The machine a run was made on. */
export function machine() {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    /** 1-minute load average: other work on the machine skews every figure. */
    loadavg: round(os.loadavg()[0] ?? 0, 2),
  };
}

/** Percentile of a list of numbers (nearest rank). */
export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Median. */
export const median = (values: number[]) => percentile(values, 50);

const TICK_US = 1e6 / 100; // /proc/PID/stat counts in clock ticks of 10 ms

/** User+system CPU time of a process so far, in µs (whole ticks of 10 ms). */
export function cpuUs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

/** Rounds to `digits` decimals. */
export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** A daemon in a fresh temp place; profiled with --cpu-prof when BENCH_PROFILE=1. */
export async function benchDaemon(
  name: string,
  place: DaemonPlace = tempPlace(`bella-bench-${name}`),
): Promise<{ daemon: DaemonHandle; place: DaemonPlace }> {
  const nodeArgs =
    process.env.BENCH_PROFILE === '1'
      ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`]
      : [];
  // E.g. BENCH_NODE_ARGS=--perf-basic-prof, for `perf record -e cpu-clock` (CPU time, not wall time).
  nodeArgs.push(...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []));
  if (nodeArgs.length) fs.mkdirSync(profileDir, { recursive: true });
  // Large data dirs (the scale and audit cases) may take a while to open.
  const daemon = await startIn(place, { nodeArgs, clientTimeoutMs: 120_000, timeoutMs: 180_000 });
  return { daemon, place };
}

/** Runs autocannon and resolves with its result. */
export function cannon(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(options, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/**
 * A bare Node HTTP server on a Unix socket answering every request with the same bytes and
 * content type, in its own process like the daemon: the ceiling a daemon on this machine can reach.
 */
export async function startBaselineServer(
  socket: string,
  body: string,
  contentType: string,
): Promise<{ proc: ChildProcess; stop: () => Promise<void> }> {
  const script = `
import http from 'node:http';
const body = Buffer.from(process.env.BASE_BODY, 'utf8');
const headers = { 'content-type': process.env.BASE_TYPE, 'content-length': String(body.length) };
http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, headers); res.end(body); }); })
  .listen(process.env.BASE_SOCKET, () => process.stdout.write('ready\\n'));
`;
  fs.rmSync(socket, { force: true });
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, BASE_BODY: body, BASE_TYPE: contentType, BASE_SOCKET: socket },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.once('data', () => resolve());
    proc.once('exit', (code) => reject(new Error(`baseline server exited (${code})`)));
  });
  return {
    proc,
    stop: async () => {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      fs.rmSync(socket, { force: true });
    },
  };
}

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function pool<T, R>(
  items: T[],
  concurrency: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

/** Issues `count` leases through the API at `concurrency`; returns the token and expiry of each. */
export async function issueMany(
  client: DaemonClient,
  count: number,
  concurrency: number,
  input: (i: number) => { project: string; environment: string; scope: string[]; ttlSeconds?: number; reason: string },
): Promise<Array<{ id: string; token: string; expiresAt: number }>> {
  return pool(
    Array.from({ length: count }, (_, i) => i),
    concurrency,
    async (i) => {
      const out = await client.call('issueLease', input(i));
      return { id: out.lease.id, token: out.token, expiresAt: Date.parse(out.lease.expiresAt) };
    },
  );
}

/** Waits until `predicate` holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(predicate: () => boolean, timeoutMs: number, stepMs = 10): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await sleep(stepMs);
  }
  return true;
}

/**
 * Runs autocannon in a child process (the load does not share the bench's event loop or core with
 * anything it measures), with JSON-serialisable `options`; resolves with its result.
 */
export async function cannonInChild(options: autocannon.Options, timeoutMs = 600_000): Promise<autocannon.Result> {
  const script = `
import autocannon from 'autocannon';
const result = await autocannon(JSON.parse(process.env.CANNON_OPTIONS));
process.stdout.write(JSON.stringify(result));
`;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: repoRoot,
    env: { ...process.env, CANNON_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => proc.once('close', resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`autocannon child exited with ${code}`);
  return JSON.parse(out) as autocannon.Result;
}

/**
 * A bare Node HTTPS server in its own process on 127.0.0.1:`port`, with Node's default TLS
 * settings and the given certificate and key, answering every request with `status`, `headers`
 * and `body`: the ceiling a TLS listener on this machine can reach.
 */
export async function startBaselineHttpsServer(
  port: number,
  pair: { certFile: string; keyFile: string },
  answer: { status: number; headers: Record<string, string>; body: string },
): Promise<{ stop: () => Promise<void> }> {
  const script = `
import fs from 'node:fs';
import https from 'node:https';
const answer = JSON.parse(process.env.BASE_ANSWER);
const body = Buffer.from(answer.body, 'utf8');
const headers = { ...answer.headers, 'content-length': String(body.length) };
const options = { cert: fs.readFileSync(process.env.BASE_CERT), key: fs.readFileSync(process.env.BASE_KEY) };
https.createServer(options, (req, res) => { req.resume(); req.on('end', () => { res.writeHead(answer.status, headers); res.end(body); }); })
  .listen(Number(process.env.BASE_PORT), '127.0.0.1', () => process.stdout.write('ready\\n'));
`;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      ...process.env,
      BASE_ANSWER: JSON.stringify(answer),
      BASE_CERT: pair.certFile,
      BASE_KEY: pair.keyFile,
      BASE_PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await childReady(proc, 'baseline https server');
  return { stop: () => stopChild(proc) };
}

/** The headers of an answer worth copying into a baseline (not those of the connection). */
export function answerHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const skip = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);
  return Object.fromEntries(
    Object.entries(headers)
      .filter(([k, v]) => !skip.has(k) && typeof v === 'string')
      .map(([k, v]) => [k, v as string]),
  );
}
