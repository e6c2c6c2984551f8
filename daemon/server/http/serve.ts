import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { BellaError, HTTP_STATUS } from '../../api';

/** One JSON answer: a status, a body serialised with JSON.stringify, extra headers. */
export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** The answer carrying a bella error in its wire form. */
export function errorAnswer(err: BellaError, headers?: Record<string, string>): Answer {
  return { status: HTTP_STATUS[err.code], body: err.toWire(), ...(headers ? { headers } : {}) };
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** Writes a JSON answer (nothing if the connection is gone or an answer was already started). */
export function sendJson(res: ServerResponse, answer: Answer): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(answer.body) ?? 'null';
  const length = Buffer.byteLength(text);
  res.writeHead(
    answer.status,
    answer.headers
      ? { ...answer.headers, 'content-type': JSON_TYPE, 'content-length': length }
      : { 'content-type': JSON_TYPE, 'content-length': length },
  );
  res.end(text);
}

/** Where an app listens: a unix socket, or a host and port. */
export type ListenOn = { path: string } | { host: string; port: number };

/**
 * A `node:http`/`node:https` server serving one request handler: listening, and stopping with every
 * connection closed at once (`closeAllConnections`, as fastify's `forceCloseConnections` did). A
 * request that arrives while it stops is answered 503.
 */
export class HttpApp {
  private closing = false;

  constructor(
    readonly server: http.Server | https.Server,
    handle: (request: IncomingMessage, response: ServerResponse) => void,
  ) {
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      if (!this.closing) return handle(request, response);
      const err = new BellaError('unavailable', 'the bella daemon is stopping: start it again and retry');
      sendJson(response, errorAnswer(err, { connection: 'close' }));
    });
    server.on('clientError', clientError);
  }

  /** Starts listening; rejects with the bind error (EADDRINUSE, EACCES…). */
  listen(on: ListenOn): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(on, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
  }

  /** The bound address (null for a unix socket or when not listening). */
  address(): AddressInfo | null {
    const a = this.server.address();
    return typeof a === 'object' ? a : null;
  }

  /** Stops accepting, closes every connection (in-flight ones included) and resolves once closed. */
  close(): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** The server of the owner's socket: keep-alive connections kept 72 s, no request timeout (as under fastify). */
export function plainServer(): http.Server {
  const server = http.createServer({ keepAliveTimeout: 72_000, requestTimeout: 0 });
  server.setTimeout(0);
  return server;
}

/** Bytes that are not HTTP at all: answer with a wire error and close that connection only. */
function clientError(error: Error & { code?: string }, socket: Socket): void {
  // Defends against peers holding connection slots: a timeout (headers, request, TLS handshake),
  // a TLS failure or a reset is closed at once. Never a half-close (`end`), which waits for a
  // FIN from a peer that may never read nor close: that kept idle TLS connections open for good.
  if (!socket.writable || !error.code?.startsWith('HPE_')) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(
    new BellaError('invalid_argument', `the request is not valid HTTP (${error.code ?? 'parse error'})`).toWire(),
  );
  // A request whose body broke mid-stream already has a response object: answer through it, once.
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (inFlight) {
    if (!inFlight.headersSent) {
      inFlight.writeHead(400, { 'content-type': 'application/json', connection: 'close' });
      inFlight.end(body);
    }
    socket.destroySoon();
    return;
  }
  socket.write(
    `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  socket.destroySoon();
}
