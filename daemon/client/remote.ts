import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
// Light imports only, as in client.ts: the CLI bundles this client.
import { BellaError, isBellaError } from '../api/errors';
import { formatDuration } from '../api/durations';
import { formatFingerprint, parseFingerprint } from '../api/fingerprint';
import { httpsOrigin } from '../api/origin';
import type { OperationInput } from '../api/operations';
import { routes, type OperationName, type OperationOutput } from '../api/routes';
import { buildRequest, type CallOptions } from './client';
import { parseAnswer } from './response';

/** Where the remote token plane is and how to trust it. */
export interface RemoteClientOptions {
  /**
   * `https://HOST:PORT` of the owner's listener (`BELLA_SERVER` / `--server`), or a comma-separated
   * list of them (the nodes of one team's store), tried in order.
   */
  server: string;
  /**
   * The pinned certificate fingerprint, `sha256:…` (`BELLA_SERVER_FINGERPRINT` / `--fingerprint`),
   * one per server in the same order, comma-separated. Without it every certificate must verify
   * against the system CAs (and `NODE_EXTRA_CA_CERTS`).
   */
  fingerprint?: string;
  /**
   * The overall deadline of one call, connection, handshake, headers and body together; 30 s by
   * default (`--timeout`). A server that answers slowly, byte by byte, is cut off there.
   */
  timeoutMs?: number;
  /** TCP connect plus TLS handshake must finish within this; 10 s by default. */
  connectTimeoutMs?: number;
  /**
   * A teammate's device (`bella team join`): its client certificate and key, presented in every
   * handshake. With it the admin plane is reachable, as far as her role allows.
   */
  device?: { certPem: string; keyPem: string };
  /**
   * Where the pin came from and what to do when it does not match, for the refusal; by default
   * BELLA_SERVER_FINGERPRINT and the lease's owner.
   */
  pinSource?: { name: string; remedy: string };
}

interface Target {
  origin: string;
  /** The overall deadline of one call, in ms (for the message). */
  timeoutMs: number;
  host: string;
  port: number;
  pin: Buffer | null;
  connectTimeoutMs: number;
  device: { certPem: string; keyPem: string } | null;
  pinSource: { name: string; remedy: string };
}

/** One listed server: where it is, how it is trusted, and its own connections. */
interface Server {
  target: Target;
  agent: PinningAgent;
}

interface Request {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
}

interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** Options the agent reads when it connects for a request: when the whole call must be done. */
type DeadlineOptions = http.ClientRequestArgs & { deadline?: number };

/** The SHA-256 of the certificate each connection's server presented (for {@link RemoteClient.probe}). */
const PRESENTED = new WeakMap<object, Buffer>();

/** Errors of a connection that failed before the request had it: nothing of the request was written. */
const FAILED_CONNECTING = new WeakSet<Error>();

/** Of those, the failures to reach the server at all (refused, reset, timed out, unknown host). */
const UNREACHED = new WeakSet<Error>();

/** Errors of a connection cut after the request was (perhaps partly) written. */
const CUT = new WeakSet<Error>();

/** Largest answer read from a server: about the longest string V8 holds. */
const MAX_ANSWER_BYTES = 512 * 1024 * 1024;

/** Times the whole list is tried while no server answers (503 with Retry-After, or unreachable). */
const MAX_ROUNDS = 3;

/**
 * The wait before the list is tried again when none of its servers could be reached (no 503 with
 * a Retry-After to go by): during a failover the new active node may be binding its port.
 */
const UNREACHED_PAUSE_MS = 500;

/** Longest wait between two rounds, whatever Retry-After says. */
const MAX_RETRY_AFTER_MS = 5_000;

/** Redirects followed for one request. */
const MAX_REDIRECTS = 2;

/**
 * The holder's client of a remote bella token plane, over HTTPS. With a fingerprint the
 * server's certificate is pinned: it is checked after the handshake and before a single byte
 * of the request (and so the token) is written, and a mismatch refuses with both fingerprints.
 * Without one the certificate is verified normally. It never falls back to plain HTTP.
 *
 * Given several servers (the nodes of one store, one active), it tries them in order: the next
 * one when a server cannot be reached, or answers 503 with Retry-After (a standby with no active
 * node), or cut a read off after it was sent; when none answered, it tries the list again (at
 * most 3 rounds, after the smallest Retry-After or 500 ms), which rides through a failover. It
 * follows a 307/308 only to a listed server, with that server's pin. The server that answered is
 * tried first by the next call.
 */
export class RemoteClient {
  /** The servers' origins, `https://host:port`, comma-separated as given. */
  readonly server: string;
  /** The servers' origins, in order. */
  readonly origins: readonly string[];
  /** The pinned fingerprints in canonical form, comma-separated, or null when verified against CAs. */
  readonly fingerprint: string | null;
  private readonly servers: readonly Server[];
  /** The server that answered last, tried first. */
  private answering: Server;

  constructor(options: RemoteClientOptions) {
    const urls = splitList(options.server).map(parseServer);
    const pins = options.fingerprint === undefined ? [] : splitList(options.fingerprint).map(parsePin);
    if (pins.length > 0 && pins.length !== urls.length) {
      throw new BellaError(
        'invalid_argument',
        `BELLA_SERVER names ${count(urls.length, 'server')} but BELLA_SERVER_FINGERPRINT has ${count(pins.length, 'fingerprint')}: give one fingerprint per server, in the same order (or none when a CA vouches for them)`,
      );
    }
    const pinSource = options.pinSource ?? {
      name: 'BELLA_SERVER_FINGERPRINT',
      remedy: "check the fingerprint with the lease's owner (bella listener status)",
    };
    this.servers = urls.map((url, i) => {
      const pin = pins[i];
      const target: Target = {
        origin: url.origin,
        host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: Number(url.port || 443),
        pin: pin ? Buffer.from(pin.slice('sha256:'.length), 'hex') : null,
        connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
        timeoutMs: options.timeoutMs ?? 30_000,
        device: options.device ?? null,
        pinSource,
      };
      return { target, agent: new PinningAgent(target) };
    });
    this.origins = this.servers.map((s) => s.target.origin);
    this.server = this.origins.join(',');
    this.fingerprint = pins.length > 0 ? pins.join(',') : null;
    this.answering = this.servers[0]!;
  }

  /**
   * Calls one token-plane operation with the holder's token, like `DaemonClient.call`; the
   * server's error is rethrown as the same {@link BellaError}. Admin operations are refused here.
   */
  async call<K extends OperationName>(
    name: K,
    input: OperationInput<K>,
    options: CallOptions = {},
  ): Promise<OperationOutput<K>> {
    const admin = routes[name].plane !== 'token';
    if (admin && !this.answering.target.device) {
      throw new BellaError(
        'invalid_argument',
        `${name} is not served by a remote bella server: only token reads and the holder's own lease are`,
      );
    }
    const token = options.token;
    // A CI login carries its credential (the job's JWT) in the body, a join the invite's secret;
    // a device's admin calls its client certificate.
    if (!token && !admin && name !== 'ciLogin' && name !== 'joinTeam') {
      throw new BellaError(
        'unauthenticated',
        'a remote bella server only answers with a token: set BELLA_TOKEN or pass --token',
      );
    }
    // Defends against header injection through a pasted token with line breaks in it.
    if (token && !/^[\x21-\x7e]+$/.test(token)) {
      throw new BellaError(
        'unauthenticated',
        'the token has characters no bella token has: copy it again whole (bax-…)',
      );
    }
    const req = buildRequest(name, input);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    const request = { method: req.method, path: req.path, headers, body: req.body };
    const answer = await this.send(request, Date.now() + this.answering.target.timeoutMs);
    return parseAnswer<OperationOutput<K>>(
      answer.status,
      answer.body,
      answer.headers,
      `the bella server at ${answer.server.target.origin}`,
    );
  }

  /**
   * Connects to `origin` (the first server by default: TCP, TLS, the pin or the CAs) within the
   * deadline and hangs up without sending anything: whether the server is reachable and the one
   * it should be (`bella doctor`). Returns the fingerprint of the certificate it presented.
   */
  probe(origin: string = this.origins[0]!): Promise<string> {
    const server = this.servers.find((s) => s.target.origin === origin);
    if (!server) throw new BellaError('invalid_argument', `${origin} is not one of BELLA_SERVER's servers`);
    const options: DeadlineOptions = { deadline: Date.now() + server.target.timeoutMs };
    return new Promise((resolve, reject) => {
      server.agent.createConnection(options, (err, stream) => {
        const presented = PRESENTED.get(stream);
        stream.destroy();
        if (err) reject(err);
        else resolve(formatFingerprint(presented ?? Buffer.alloc(0)));
      });
    });
  }

  /** Closes idle keep-alive connections so the process can exit. */
  close(): void {
    for (const s of this.servers) s.agent.destroy();
  }

  /**
   * Sends `request` to the servers in order (the one that answered last first), each round, until
   * one answers other than 503 with Retry-After; between rounds it waits the smallest Retry-After,
   * or 500 ms when no server could be reached (a failover: the old node gone, the new one binding).
   */
  private async send(request: Request, deadline: number): Promise<Answer & { server: Server }> {
    const said = new Map<string, string>();
    for (let round = 1; ; round++) {
      let retryAfterMs = Number.POSITIVE_INFINITY;
      let unavailable: (Answer & { server: Server }) | undefined;
      for (const server of [this.answering, ...this.servers.filter((s) => s !== this.answering)]) {
        let answer: Answer & { server: Server };
        try {
          answer = await this.sendFollowing(server, request, deadline);
        } catch (err) {
          if (this.servers.length === 1 || !triesNextAfter(err, request.method)) throw err;
          said.set(server.target.origin, (err as Error).message);
          continue;
        }
        const wait = answer.status === 503 ? retryAfter(answer.headers['retry-after']) : undefined;
        if (wait === undefined) {
          this.answering = answer.server;
          return answer;
        }
        said.set(
          server.target.origin,
          `${answer.server.target.origin} answered 503 (${wireMessage(answer.body)}), retry after ${Math.ceil(wait / 1000)} s`,
        );
        retryAfterMs = Math.min(retryAfterMs, wait);
        unavailable = answer;
      }
      // Here no server answered: each said 503 with Retry-After, could not be reached, or cut a read off.
      const pause = unavailable === undefined ? UNREACHED_PAUSE_MS : Math.min(retryAfterMs, MAX_RETRY_AFTER_MS);
      const again = round < MAX_ROUNDS && Date.now() + pause < deadline;
      if (!again) {
        if (unavailable && this.servers.length === 1) return unavailable;
        throw new BellaError(
          'unavailable',
          `no bella server of BELLA_SERVER answered${round > 1 ? ` (${round} rounds)` : ''}: ${[...said.values()].join('; ')}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  /** Sends `request` to `first`, following its redirects to listed servers only. */
  private async sendFollowing(first: Server, request: Request, deadline: number): Promise<Answer & { server: Server }> {
    let server = first;
    const { path } = request;
    for (let hops = 0; ; hops++) {
      const answer = await this.sendTo(server, request, deadline);
      if (answer.status !== 307 && answer.status !== 308) return { ...answer, server };
      const location = redirectTo(server.target.origin, answer.headers.location);
      const next = this.servers.find((s) => s.target.origin === location.origin);
      if (next && location.pathname + location.search !== path) {
        // A standby sends the holder to the same request on the active node, never to another one.
        throw new BellaError(
          'permission_denied',
          `${server.target.origin} redirected ${request.method} ${path} to ${location.pathname + location.search}, another request: nothing was sent there`,
        );
      }
      if (!next) {
        // Defends the token: it goes only to servers the holder named, and their pins.
        throw new BellaError(
          'permission_denied',
          `${server.target.origin} redirected to ${location.origin}, which is not one of BELLA_SERVER's servers: nothing was sent there; ask the lease's owner for the servers' addresses`,
        );
      }
      if (hops === MAX_REDIRECTS) {
        throw new BellaError(
          'unavailable',
          `${first.target.origin} redirected more than ${MAX_REDIRECTS} times (last to ${location.origin}): the servers do not agree which one is active; try again later`,
        );
      }
      server = next;
    }
  }

  private async sendTo(server: Server, request: Request, deadline: number): Promise<Answer> {
    try {
      return await this.sendOnce(server, request, deadline);
    } catch (err) {
      // A keep-alive connection the server closed just as it was reused. Token-plane calls are
      // reads or a self-revoke, so sending once more on a fresh connection is harmless.
      if ((err as { reusedSocket?: boolean }).reusedSocket) return this.sendOnce(server, request, deadline);
      throw err;
    }
  }

  private sendOnce({ target, agent }: Server, { method, path, headers, body }: Request, deadline: number) {
    return new Promise<Answer>((resolve, reject) => {
      const options: DeadlineOptions = {
        host: target.host,
        port: target.port,
        method,
        path,
        headers,
        agent,
        deadline,
      };
      // Defends against a server that answers and then drips its body (or never answers): one
      // overall deadline for connection, handshake, headers and body, whatever arrives meanwhile.
      let expired = false;
      const timer = setTimeout(
        () => {
          expired = true;
          r.destroy(deadlineError(target));
        },
        Math.max(0, deadline - Date.now()),
      );
      const fail = (err: BellaError) => {
        clearTimeout(timer);
        if (expired) reject(deadlineError(target));
        else {
          if (err.code === 'unavailable' && !FAILED_CONNECTING.has(err)) CUT.add(err);
          reject(err);
        }
      };
      const r = http.request(options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          // Defends against a hostile or broken server exhausting the holder's memory.
          if (size > MAX_ANSWER_BYTES)
            r.destroy(new BellaError('internal', `${target.origin} sent an answer larger than any bella answer`));
          else chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (err) => fail(connectionError(err, target)));
      });
      r.on('error', (err) => {
        const e = connectionError(err, target);
        if (r.reusedSocket && (err as NodeJS.ErrnoException).code === 'ECONNRESET')
          Object.assign(e, { reusedSocket: true });
        fail(e);
      });
      r.end(body);
    });
  }
}

/**
 * True when a call that failed with `err` goes to the next server: nothing of it reached this
 * one, or it was a read cut off after it was sent. A change cut off may be done: not made again.
 */
function triesNextAfter(err: unknown, method: string): boolean {
  if (!(err instanceof Error)) return false;
  return UNREACHED.has(err) || (CUT.has(err) && method === 'GET');
}

/** The URL a 307/308 from `origin` points to. */
function redirectTo(origin: string, location: string | undefined): URL {
  try {
    return new URL(location ?? '', origin);
  } catch {
    throw new BellaError('internal', `${origin} redirected to ${JSON.stringify(location)}, which is not a URL`);
  }
}

/** Retry-After in ms (seconds or an HTTP date), or undefined when there is none. */
function retryAfter(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** The message of a wire error body, for naming a server's answer. */
function wireMessage(body: string): string {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === 'string') return message;
  } catch {
    // Not JSON: said as "no message".
  }
  return 'no message';
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function splitList(text: string): string[] {
  return text.split(',').map((part) => part.trim());
}

/**
 * An HTTP agent whose connections are TLS sockets it opened and verified itself: the request
 * is handed a socket only once the handshake is done and the certificate is the pinned one
 * (or verified by a CA), so nothing of it is ever written to a wrong peer.
 */
class PinningAgent extends http.Agent {
  constructor(private readonly target: Target) {
    // Idle sockets are dropped before the listener's 5 s keep-alive timeout would drop them.
    super({ keepAlive: true, maxSockets: 16, timeout: 4_000 });
  }

  override createConnection(
    options: http.ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const { host, port, pin } = this.target;
    const done = callback ?? (() => {});
    const deadline = (options as DeadlineOptions).deadline ?? Number.POSITIVE_INFINITY;
    const socket = tls.connect({
      host,
      port,
      // SNI carries names only, never addresses.
      ...(net.isIP(host) ? {} : { servername: host }),
      // With a pin the certificate is checked below instead; without one, by the CAs and hostname.
      rejectUnauthorized: pin === null,
      minVersion: 'TLSv1.2',
      ALPNProtocols: ['http/1.1'],
      // Only after the server's certificate was pinned does the request go out; the client
      // certificate itself carries nothing secret (the key never leaves the device).
      ...(this.target.device ? { cert: this.target.device.certPem, key: this.target.device.keyPem } : {}),
    });
    // The connection's own limit, or the call's deadline when that comes first.
    const untilDeadline = Math.max(0, deadline - Date.now());
    const timer = setTimeout(
      () =>
        socket.destroy(
          untilDeadline < this.target.connectTimeoutMs
            ? deadlineError(this.target)
            : Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' }),
        ),
      Math.min(untilDeadline, this.target.connectTimeoutMs),
    );
    const onError = (err: Error) => {
      clearTimeout(timer);
      const e = connectionError(err, this.target);
      FAILED_CONNECTING.add(e);
      if (UNREACHABLE.has((err as NodeJS.ErrnoException).code ?? '')) UNREACHED.add(e);
      done(e, socket);
    };
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      // Read now: the peer certificate is not kept once the handshake's callbacks are over.
      const cert = socket.getPeerX509Certificate();
      const presented = cert ? createHash('sha256').update(cert.raw).digest() : null;
      if (presented) PRESENTED.set(socket, presented);
      const refusal = pin ? checkPin(presented, pin, this.target) : null;
      if (refusal) {
        // Defends the token against a man in the middle or a wrong server: nothing is written
        // but the end of the handshake and close_notify.
        socket.destroySoon();
        done(refusal, socket);
        return;
      }
      done(null, socket);
    });
    return undefined;
  }
}

/** The error of a call that the server did not finish answering before its deadline. */
function deadlineError(target: Target): BellaError {
  return new BellaError(
    'unavailable',
    `the bella server at ${target.origin} did not answer within ${target.timeoutMs % 1000 === 0 ? formatDuration(target.timeoutMs / 1000) : `${target.timeoutMs} ms`}: check BELLA_SERVER and the network, or allow it longer with --timeout (e.g. --timeout 2m) or BELLA_TIMEOUT`,
  );
}

function checkPin(presented: Buffer | null, pin: Buffer, target: Target): BellaError | null {
  // Constant time as for any secret compare; the pin is public, but this costs nothing.
  if (presented && presented.length === pin.length && timingSafeEqual(presented, pin)) return null;
  return new BellaError(
    'permission_denied',
    `the server at ${target.origin} presented certificate ${presented ? formatFingerprint(presented) : '(none)'} but ${target.pinSource.name} is ${formatFingerprint(pin)}: nothing was sent; ${target.pinSource.remedy}`,
  );
}

function parseServer(server: string): URL {
  // Defends the token against the network: it never travels without TLS.
  if (/^\s*http:/i.test(server)) {
    throw new BellaError(
      'invalid_argument',
      `BELLA_SERVER must start with https:// (bella never sends a token without TLS), not ${server.trim()}`,
    );
  }
  const origin = httpsOrigin(server);
  if (!origin) {
    throw new BellaError('invalid_argument', `BELLA_SERVER must be https://HOST:PORT, not ${JSON.stringify(server)}`);
  }
  return new URL(origin);
}

function parsePin(fingerprint: string): string {
  const pin = parseFingerprint(fingerprint);
  if (!pin) {
    throw new BellaError(
      'invalid_argument',
      'BELLA_SERVER_FINGERPRINT must be sha256: followed by 64 hex digits, as `bella listener status` prints it',
    );
  }
  return pin;
}

/** Connection failures that leave a server unreached: before the handshake's end, nothing was sent. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
]);

function connectionError(err: Error, target: Target): BellaError {
  if (isBellaError(err)) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const where = target.origin;
  if (UNTRUSTED.has(code)) {
    return new BellaError(
      'permission_denied',
      `the certificate of ${where} is not trusted (${err.message}): set BELLA_SERVER_FINGERPRINT to the fingerprint its owner gave you`,
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new BellaError(
      'permission_denied',
      `the certificate of ${where} is not issued for ${target.host}: use the address its owner gave you, or pin it with BELLA_SERVER_FINGERPRINT`,
    );
  }
  if (
    /wrong version number|packet length too long|unknown protocol|http request/i.test(err.message) ||
    code === 'ERR_SSL_WRONG_VERSION_NUMBER'
  ) {
    return new BellaError(
      'unavailable',
      `${where} does not speak TLS (a plain HTTP server?): check BELLA_SERVER with the lease's owner; nothing was sent`,
    );
  }
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connection refused; is its listener enabled?',
    ENOTFOUND: `${target.host} is not a known host name`,
    EAI_AGAIN: `${target.host} could not be resolved now`,
    ETIMEDOUT: `no answer within ${target.connectTimeoutMs} ms`,
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ECONNRESET: 'the connection was closed',
  };
  const reason = reasons[code] ?? (code || err.message);
  return new BellaError(
    'unavailable',
    `cannot reach the bella server at ${where} (${reason}): check BELLA_SERVER and the network`,
  );
}
