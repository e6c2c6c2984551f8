import net from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
// Light imports only: every CLI command that reaches the daemon loads this, and node:http alone
// costs a short-lived process a fifth of its start-up (docs/benchmarks.md, "CLI").

/** One request to the daemon's socket. */
export interface SocketRequest {
  method: string;
  /** Path with query, e.g. `/v1/leases?project=p`. */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** The daemon's answer. */
export interface SocketAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An answer's head (status line and headers) may not be larger than this. */
const MAX_HEAD_BYTES = 64 * 1024;

/** Why an answer could not be read: its `code` is what `node:http` would give. */
function broken(message: string, code = 'ECONNRESET'): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(message);
  err.code = code;
  return err;
}

/**
 * One HTTP/1.1 exchange with the daemon on its Unix socket (or named pipe), one connection per
 * request (`Connection: close`). A minimal client on `node:net`: it writes the request and reads
 * the answer to the end. The answer is checked (status line, header size, a body as long as its
 * Content-Length, chunked framing) and anything else is an error, never a partial answer.
 * `track` receives the socket, so its owner can destroy it (DaemonClient.close).
 */
export function socketRequest(
  socketPath: string,
  req: SocketRequest,
  timeoutMs: number,
  onTimeout: () => Error,
  track?: (socket: net.Socket) => () => void,
): Promise<SocketAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    const untrack = track?.(socket);
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (err: Error | null, answer?: SocketAnswer) => {
      if (settled) return;
      settled = true;
      untrack?.();
      socket.destroy();
      if (err) reject(err);
      else resolve(answer as SocketAnswer);
    };
    socket.setTimeout(timeoutMs, () => finish(onTimeout()));
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(broken('socket hang up')));
    // Done at the end of the connection, or earlier once the head and Content-Length bytes are in.
    let received = 0;
    let expected = -1;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      try {
        if (expected < 0) expected = expectedSize(Buffer.concat(chunks));
        if (expected > 0 && received >= expected) finish(null, tryParse(Buffer.concat(chunks), false) ?? undefined);
      } catch (err) {
        finish(err as Error);
      }
    });
    socket.on('end', () => {
      try {
        finish(null, tryParse(Buffer.concat(chunks), true) ?? undefined);
      } catch (err) {
        finish(err as Error);
      }
    });
    const body = req.body === undefined ? undefined : Buffer.from(req.body, 'utf8');
    const lines = [`${req.method} ${req.path} HTTP/1.1`, 'Host: localhost', 'Connection: close'];
    for (const [name, value] of Object.entries(req.headers)) lines.push(`${name}: ${value}`);
    if (body) lines.push(`Content-Length: ${body.length}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (body) socket.write(body);
  });
}

/**
 * How many bytes the whole answer takes when its head is in `data` and gives a Content-Length;
 * -1 while the head is still coming, 0 when the answer ends with the connection (or is chunked).
 */
function expectedSize(data: Buffer): number {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) {
    if (data.length > MAX_HEAD_BYTES) throw broken('the daemon answered with a head that is too large', 'EPROTO');
    return -1;
  }
  const head = data.subarray(0, headEnd).toString('latin1');
  if (/\r\ntransfer-encoding:/i.test(head)) return 0;
  const length = /\r\ncontent-length: *(\d+) *(?:\r\n|$)/i.exec(head);
  return length ? headEnd + 4 + Number(length[1]) : 0;
}

/**
 * The answer in `data` once it is complete, else null. `ended`: the daemon closed the connection,
 * so what is there is all there is (an answer without Content-Length or chunking ends there).
 */
export function tryParse(data: Buffer, ended: boolean): SocketAnswer | null {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) {
    if (data.length > MAX_HEAD_BYTES) throw broken('the daemon answered with a head that is too large', 'EPROTO');
    if (ended) throw broken('socket hang up');
    return null;
  }
  if (headEnd > MAX_HEAD_BYTES) throw broken('the daemon answered with a head that is too large', 'EPROTO');
  const [statusLine = '', ...fields] = data.subarray(0, headEnd).toString('latin1').split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
  if (!match) throw broken('the daemon answered with something that is not HTTP', 'EPROTO');
  const headers: IncomingHttpHeaders = {};
  for (const field of fields) {
    const colon = field.indexOf(':');
    if (colon <= 0) throw broken('the daemon answered with a malformed header', 'EPROTO');
    const name = field.slice(0, colon).trim().toLowerCase();
    const value = field.slice(colon + 1).trim();
    const before = headers[name];
    if (name === 'set-cookie') headers[name] = [...(Array.isArray(before) ? before : []), value];
    else headers[name] = typeof before === 'string' ? `${before}, ${value}` : value;
  }
  const rest = data.subarray(headEnd + 4);
  const status = Number(match[1]);
  const body = (bytes: Buffer): SocketAnswer => ({ status, headers, body: bytes.toString('utf8') });
  if (status === 204 || status === 304) return body(Buffer.alloc(0));
  if (/\bchunked\b/i.test(String(headers['transfer-encoding'] ?? ''))) {
    const decoded = dechunk(rest);
    if (decoded) return body(decoded);
    if (ended) throw broken('socket hang up');
    return null;
  }
  const lengthText = headers['content-length'];
  if (lengthText !== undefined) {
    if (!/^\d+$/.test(String(lengthText))) throw broken('the daemon answered with a bad Content-Length', 'EPROTO');
    const length = Number(lengthText);
    if (rest.length >= length) return body(rest.subarray(0, length));
    if (ended) throw broken('socket hang up');
    return null;
  }
  return ended ? body(rest) : null;
}

/** The body of a complete chunked transfer, or null while chunks are still to come. */
function dechunk(data: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return null;
    const sizeText = data.subarray(at, lineEnd).toString('latin1').split(';')[0]?.trim() ?? '';
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw broken('the daemon answered with a bad chunk', 'EPROTO');
    const size = parseInt(sizeText, 16);
    const start = lineEnd + 2;
    if (size === 0) {
      // Trailers (none expected) end with an empty line.
      return data.indexOf('\r\n\r\n', lineEnd) >= 0 ? Buffer.concat(parts) : null;
    }
    if (data.length < start + size + 2) return null;
    parts.push(data.subarray(start, start + size));
    at = start + size + 2;
  }
}
