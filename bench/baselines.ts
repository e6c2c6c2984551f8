import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';

/** Where a baseline listens: a Unix socket (plain HTTP), or 127.0.0.1:port over TLS. */
export type BaselineListen = { socket: string } | { port: number; certFile: string; keyFile: string };

/** The fixed answer a baseline gives every request. */
export interface BaselineAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * What a durable baseline does per request before answering: `append` writes `bytes` filler bytes;
 * `chain` serialises a record of about `bytes` bytes (the request body in it) and chains it with
 * HMAC-SHA256 over the previous MAC, the way an audit trail does.
 */
export type DurableWork = { kind: 'append'; bytes: number } | { kind: 'chain'; bytes: number };

/** What a durable baseline did, read back when it stops. */
export interface DurableStats {
  requests: number;
  commits: number;
  bytes: number;
}

/** Waits for a child's first line on stdout (its "ready"), or fails if it exits first. */
export function childReady(proc: ChildProcess, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    proc.stdout!.once('data', () => resolve());
    proc.once('exit', (code) => reject(new Error(`${what} exited (${code})`)));
  });
}

/** Stops a child started here and waits for it to be gone. */
export async function stopChild(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await gone;
}

// The server, run as its own process like the daemon. Requests that arrive while one
// write+fdatasync runs wait for the next, which takes all of them at once (group commit); each is
// answered once its bytes are on disk.
const DURABLE_SERVER = `
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
const o = JSON.parse(process.env.BASE_OPTIONS);
const body = Buffer.from(o.answer.body, 'utf8');
const headers = { ...o.answer.headers, 'content-length': String(body.length) };
const fd = fs.openSync(o.file, 'a', 0o600);
const key = crypto.randomBytes(32);
let prev = Buffer.alloc(32).toString('base64url');
let seq = 0;
// Filler that brings a chained line to about o.work.bytes: sized on the first request.
let pad = null;
function chained(request) {
  if (pad === null) {
    pad = '';
    const bare = chained(request).length;
    seq = 0;
    prev = Buffer.alloc(32).toString('base64url');
    pad = 'p'.repeat(Math.max(0, o.work.bytes - bare));
  }
  const record = {
    seq: ++seq,
    at: new Date().toISOString(),
    event: 'LeaseIssued',
    outcome: 'Success',
    actor: { kind: 'local', uid: process.getuid() },
    project: 'bench',
    environment: 'dev',
    keys: ['API_KEY'],
    request,
    pad,
    prev,
  };
  const json = JSON.stringify(record);
  prev = crypto.createHmac('sha256', key).update(prev).update(json).digest('base64url');
  return json + ' ' + prev + '\\n';
}
let waiting = [];
let pending = [];
let busy = false;
const stats = { requests: 0, commits: 0, bytes: 0 };
function commit() {
  if (busy || waiting.length === 0) return;
  busy = true;
  const group = waiting;
  const bytes = o.work.kind === 'chain' ? Buffer.from(pending.join(''), 'utf8') : Buffer.alloc(o.work.bytes * group.length, 0x61);
  waiting = [];
  pending = [];
  const done = (err) => {
    if (err) throw err;
    stats.requests += group.length; stats.commits++; stats.bytes += bytes.length;
    for (const res of group) { res.writeHead(o.answer.status, headers); res.end(body); }
    busy = false;
    commit();
  };
  const write = (offset) => fs.write(fd, bytes, offset, bytes.length - offset, null, (err, n) => {
    if (err) return done(err);
    if (offset + n < bytes.length) return write(offset + n);
    fs.fdatasync(fd, done);
  });
  write(0);
}
const handler = (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (o.work.kind === 'chain') pending.push(chained(Buffer.concat(chunks).toString('utf8')));
    waiting.push(res);
    commit();
  });
};
const server = o.listen.socket
  ? http.createServer(handler)
  : https.createServer({ cert: fs.readFileSync(o.listen.certFile), key: fs.readFileSync(o.listen.keyFile) }, handler);
const ready = () => process.stdout.write('ready\\n');
if (o.listen.socket) server.listen(o.listen.socket, ready);
else server.listen(o.listen.port, '127.0.0.1', ready);
process.on('SIGTERM', () => { fs.writeFileSync(o.file + '.stats', JSON.stringify(stats)); process.exit(0); });
`;

/**
 * A bare Node server in its own process that makes every request durable the way a store with
 * group commit does (see {@link DurableWork}), appending to `file` and fdatasyncing before it
 * answers: the ceiling a durable daemon on this machine can reach.
 */
export async function startDurableBaseline(
  listen: BaselineListen,
  file: string,
  work: DurableWork,
  answer: BaselineAnswer,
): Promise<{ pid: number; stop: () => Promise<DurableStats> }> {
  if ('socket' in listen) fs.rmSync(listen.socket, { force: true });
  const proc = spawn(process.execPath, ['--input-type=module', '-e', DURABLE_SERVER], {
    env: { ...process.env, BASE_OPTIONS: JSON.stringify({ listen, file, work, answer }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await childReady(proc, 'durable baseline server');
  return {
    pid: proc.pid!,
    stop: async () => {
      await stopChild(proc);
      if ('socket' in listen) fs.rmSync(listen.socket, { force: true });
      const stats = JSON.parse(fs.readFileSync(`${file}.stats`, 'utf8')) as DurableStats;
      fs.rmSync(`${file}.stats`, { force: true });
      fs.rmSync(file, { force: true });
      return stats;
    },
  };
}

// The cold-start floor's server: before it listens, it reads every file of a directory into memory
// of its own, with a CRC-32 and an HMAC-SHA256 over each file (the least that loading and checking
// a lease table's files takes), then answers every request with `{}`.
const READING_SERVER = `
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
const [dir, socket] = process.argv.slice(1);
const key = crypto.randomBytes(32);
for (const name of fs.readdirSync(dir)) {
  const bytes = fs.readFileSync(path.join(dir, name));
  zlib.crc32(bytes);
  crypto.createHmac('sha256', key).update(bytes).digest();
}
http.createServer((req, res) => res.end('{}')).listen(socket);
`;

/** Whether an HTTP server answers on a Unix socket (any status). */
function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: socket, path: '/' }, (res) => {
      res.resume();
      res.on('end', () => resolve(true));
    });
    req.on('error', () => resolve(false));
  });
}

/**
 * The cold start of a bare Node server that reads and checks `dir`'s files before it listens
 * ({@link READING_SERVER}): from spawn to its first answer, probed every 5 ms as a daemon's start
 * is (test/helpers/daemon.ts). What a daemon holding those files cannot start faster than here.
 */
export async function coldStartFloor(dir: string, socket: string): Promise<number> {
  fs.rmSync(socket, { force: true });
  const started = performance.now();
  const proc = spawn(process.execPath, ['--input-type=module', '-e', READING_SERVER, dir, socket], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const deadline = Date.now() + 60_000;
    while (!(await answers(socket))) {
      if (proc.exitCode !== null || Date.now() > deadline)
        throw new Error('the cold-start floor server did not answer');
      await new Promise((r) => setTimeout(r, 5));
    }
    return performance.now() - started;
  } finally {
    await stopChild(proc);
    fs.rmSync(socket, { force: true });
  }
}
