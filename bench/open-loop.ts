import { spawn } from 'node:child_process';
import { repoRoot } from '../test/helpers/daemon';

/** One fixed-rate run: where to send, what, how fast and for how long. */
export interface OpenLoopOptions {
  /** A Unix socket (plain HTTP), or 127.0.0.1:`port` over TLS (the certificate is not checked). */
  target: { socket: string } | { port: number };
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Requests per second offered, whatever the answers' pace (open loop). */
  rate: number;
  durationS: number;
  /** Seconds at the same rate before, not measured: connections opened, both sides' code warm. */
  warmupS: number;
  /** Keep-alive connections at most; requests beyond them queue in the client and count their wait. */
  maxConnections: number;
  /** A request unanswered this long after the last one is sent is counted as unanswered. */
  graceMs: number;
}

/** What a fixed-rate run measured: latency from each request's scheduled send time. */
export interface OpenLoopResult {
  offered: number;
  answered_2xx: number;
  failed: number;
  unanswered: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** How far the sender fell behind its schedule at worst (a busy load generator shows here). */
  max_send_lag_ms: number;
}

// The load generator, in its own process. Request i is due at t0 + i/rate; its latency runs from
// then to the end of its answer, so a server that stalls is charged for every request that would
// have been sent meanwhile (no coordinated omission).
const OPEN_LOOP = `
import http from 'node:http';
import https from 'node:https';
const o = JSON.parse(process.env.OPEN_LOOP);
const tls = !o.target.socket;
const mod = tls ? https : http;
const agent = new mod.Agent({ keepAlive: true, maxSockets: o.maxConnections, rejectUnauthorized: false });
const warmup = Math.round(o.rate * o.warmupS);
const total = warmup + Math.round(o.rate * o.durationS);
const latencies = [];
let sent = 0, settled = 0, ok = 0, failed = 0, lag = 0;
const t0 = performance.now();
const where = tls ? { host: '127.0.0.1', port: o.target.port, servername: 'localhost' } : { socketPath: o.target.socket };
function report() {
  latencies.sort((a, b) => a - b);
  const at = (p) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)] : NaN;
  const r = (n) => Math.round(n * 100) / 100;
  process.stdout.write(JSON.stringify({
    offered: total - warmup, answered_2xx: ok, failed, unanswered: total - settled,
    p50_ms: r(at(0.5)), p99_ms: r(at(0.99)), max_ms: r(at(1)), max_send_lag_ms: r(lag),
  }));
  process.exit(0);
}
function send(i) {
  const due = t0 + (i * 1000) / o.rate;
  const measured = i >= warmup;
  if (measured) lag = Math.max(lag, performance.now() - due);
  let done = false;
  const finish = (good) => {
    if (done) return;
    done = true;
    if (measured) {
      latencies.push(performance.now() - due);
      if (good) ok++; else failed++;
    }
    if (++settled === total) report();
  };
  const req = mod.request({ ...where, agent, method: o.method, path: o.path, headers: o.headers }, (res) => {
    res.resume();
    res.on('end', () => finish(res.statusCode >= 200 && res.statusCode < 300));
    res.on('error', () => finish(false));
  });
  req.on('error', () => finish(false));
  req.end(o.body);
}
function tick() {
  const due = Math.min(total, Math.floor(((performance.now() - t0) * o.rate) / 1000) + 1);
  while (sent < due) send(sent++);
  if (sent < total) setTimeout(tick, 1);
  else setTimeout(report, o.graceMs);
}
tick();
`;

/**
 * Offers `rate` requests per second for `warmupS` + `durationS` seconds from a child process
 * (bounded: rate × those seconds requests, then at most `graceMs` for the last answers), and
 * measures each request of the last `durationS` seconds from the moment it was due.
 */
export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', OPEN_LOOP], {
    cwd: repoRoot,
    env: { ...process.env, OPEN_LOOP: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const timer = setTimeout(
    () => proc.kill('SIGKILL'),
    (options.warmupS + options.durationS) * 1000 + options.graceMs + 30_000,
  );
  const code = await new Promise<number | null>((resolve) => proc.once('close', resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`open-loop load child exited with ${code}`);
  return JSON.parse(out) as OpenLoopResult;
}
