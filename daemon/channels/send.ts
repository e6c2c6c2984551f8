import http from 'node:http';
import https from 'node:https';
import { ADDRESS_REFUSED, checkChannelUrl, type DnsLookup, guardedLookup, type UrlRules } from './address';

/** Limits of one delivery request. */
export interface SendOptions {
  /** From the request's start until the TCP connection is up (DNS included). Default 5 s. */
  connectTimeoutMs: number;
  /** From the request's start until the response is read (or given up). Default 10 s. */
  totalTimeoutMs: number;
  /** Response bytes read before the connection is dropped. Default 64 KiB. */
  maxResponseBytes: number;
  /** The DNS lookup whose answers are checked; tests inject one (then no connection is kept). Default `dns.lookup`. */
  lookup?: DnsLookup;
}

/** The limits issue 11 sets: 5 s to connect, 10 s in all, 64 KiB of response. */
export const DEFAULT_SEND_OPTIONS: Readonly<SendOptions> = {
  connectTimeoutMs: 5_000,
  totalTimeoutMs: 10_000,
  maxResponseBytes: 64 * 1024,
};

/** One POST to a channel. `body` is sent byte for byte as given (it is what was signed). */
export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  contentType?: string;
  /** The channel's address rules, checked again at this send (and on every address DNS gives). */
  rules: UrlRules;
}

/**
 * How one request ended. `delivered`: a 2xx. `disable`: 410 Gone (the receiver asks to stop), or a
 * URL that can never work. `retry`: anything else: 3xx, 4xx, 5xx, timeouts, connection errors.
 */
export interface SendResult {
  outcome: 'delivered' | 'disable' | 'retry';
  /** The HTTP status, null when no response arrived. */
  status: number | null;
  /** A short reason for people (never the URL, never the response body), null when delivered. */
  error: string | null;
  /** Response body bytes read (at most about `maxResponseBytes`), then ignored. */
  responseBytes: number;
}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection closed without a response',
  EPIPE: 'connection closed while sending',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed (temporary)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
};

// Only the error code is kept: Node's messages can carry the host or path, and a Slack/Discord
// URL's path is its credential.
function describeError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return 'network error';
  // Ours: names the host and the address it resolved to, never the URL's path.
  if (code === ADDRESS_REFUSED) return (error as Error).message;
  const known = NETWORK_ERRORS[code];
  if (known) return known;
  if (/CERT|TLS|SSL/.test(code)) return `TLS error (${code})`;
  return `network error (${code})`;
}

function classify(status: number, responseBytes: number): SendResult {
  if (status >= 200 && status < 300) return { outcome: 'delivered', status, error: null, responseBytes };
  if (status === 410) {
    return { outcome: 'disable', status, error: 'the receiver answered 410 Gone', responseBytes };
  }
  const error = status >= 300 && status < 400 ? `redirect (HTTP ${status}) not followed` : `HTTP ${status}`;
  return { outcome: 'retry', status, error, responseBytes };
}

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

/**
 * Connections are kept alive between deliveries (at most 8 idle in all, each closed after 4 s
 * idle, sooner when the receiver's Keep-Alive header says so): a delivery then costs one request,
 * not a TCP and TLS handshake.
 */
const AGENT_OPTIONS = { keepAlive: true, maxFreeSockets: 8, timeout: 4_000 };
// One pair per --allow-private: a kept connection was checked under its channel's rules when it
// was opened, so a channel without --allow-private never reuses one opened to a private address.
const agents = {
  strict: { http: new http.Agent(AGENT_OPTIONS), https: new https.Agent(AGENT_OPTIONS) },
  allowPrivate: { http: new http.Agent(AGENT_OPTIONS), https: new https.Agent(AGENT_OPTIONS) },
};

/**
 * POSTs one request and settles (never rejects) within `totalTimeoutMs`. Redirects are never
 * followed; the response body is read up to the cap and thrown away.
 */
export function send(
  request: OutgoingRequest,
  options: SendOptions = DEFAULT_SEND_OPTIONS,
  fresh = false,
): Promise<SendResult> {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return Promise.resolve({
      outcome: 'disable',
      status: null,
      error: 'the channel URL is not a URL',
      responseBytes: 0,
    });
  }
  // Only HTTP(S), and only where the channel's rules allow (SSRF): checked again at every send, so a
  // channel stored before a rule existed cannot reach what `add` now refuses.
  try {
    checkChannelUrl(request.url, request.rules);
  } catch (error) {
    return Promise.resolve({ outcome: 'disable', status: null, error: (error as Error).message, responseBytes: 0 });
  }
  const body = Buffer.from(request.body, 'utf8');
  const secure = url.protocol === 'https:';
  const transport = secure ? https : http;

  return new Promise<SendResult>((resolve) => {
    let settled = false;
    let status: number | null = null;
    let responseBytes = 0;
    let connectTimer: NodeJS.Timeout | undefined;

    // A response read to its end leaves the connection to the agent for the next delivery.
    const finish = (result: SendResult, complete = false): void => {
      if (settled) return;
      settled = true;
      clearTimeout(totalTimer);
      clearTimeout(connectTimer);
      if (!complete) req.destroy();
      resolve(result);
    };
    const retry = (error: string): void => finish({ outcome: 'retry', status, error, responseBytes });

    // Certificates are verified (Node's default, never turned off): a man in the middle could
    // otherwise read the event and, for Slack/Discord, the URL's token.
    const pool = request.rules.allowPrivate ? agents.allowPrivate : agents.strict;
    const req = transport.request(url, {
      method: 'POST',
      agent: fresh || options.lookup ? false : secure ? pool.https : pool.http,
      // DNS rebinding: every resolved address is checked, and the socket connects to a checked one.
      lookup: guardedLookup(request.rules, options.lookup),
      headers: {
        ...request.headers,
        'content-type': request.contentType ?? 'application/json',
        'content-length': String(body.length),
        'user-agent': 'bella-notifications',
      },
    });

    // A total deadline: a receiver that accepts the connection and never answers (or trickles
    // bytes) holds one delivery slot for at most this long.
    const totalTimer = setTimeout(() => {
      if (status !== null) finish(classify(status, responseBytes));
      else retry(`no response within ${seconds(options.totalTimeoutMs)}`);
    }, options.totalTimeoutMs);

    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      connectTimer = setTimeout(
        () => retry(`could not connect within ${seconds(options.connectTimeoutMs)}`),
        options.connectTimeoutMs,
      );
      socket.once('connect', () => clearTimeout(connectTimer));
    });
    req.on('error', (error) => {
      // An idle connection the receiver closed as this request went out: nothing was answered,
      // so it is sent again at once on a new connection rather than counted as a failed attempt.
      if (req.reusedSocket && status === null && !fresh && !settled) {
        settled = true;
        clearTimeout(totalTimer);
        clearTimeout(connectTimer);
        resolve(send(request, options, true));
        return;
      }
      retry(describeError(error));
    });
    // Node's http never follows redirects by itself: a 3xx is classified below like any failure, so
    // a receiver cannot bounce the signed event (or the daemon) to another address.
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      const done = (): void => finish(classify(status ?? 0, responseBytes));
      // The body is counted and dropped, never buffered: a receiver answering 10 MB (or endlessly)
      // costs at most one chunk of memory and is cut off at the cap.
      res.on('data', (chunk: Buffer) => {
        responseBytes += chunk.length;
        if (responseBytes >= options.maxResponseBytes) done();
      });
      res.on('end', () => finish(classify(status ?? 0, responseBytes), true));
      res.on('error', done);
      res.on('close', done);
    });
    req.end(body);
  });
}
