import type { Socket } from 'node:net';
// Light imports only: the CLI bundles this client and must not load the schema library, nor
// node:http (calls go over socket-http.ts; only the event stream loads node:http).
import { BellaError, isBellaError } from '../api/errors';
import type { DaemonEvent } from '../api/events';
import type { OperationInput } from '../api/operations';
import { pathParams, routes, type OperationName, type OperationOutput } from '../api/routes';
import { parseAnswer } from './response';
import { socketRequest, type SocketAnswer } from './socket-http';

/** Where and how to reach the daemon. */
export interface ClientOptions {
  socketPath: string;
  /** Abort a request after this long; the default suits interactive use. */
  timeoutMs?: number;
}

/** Options for one call. */
export interface CallOptions {
  /** A `bax-…` token, sent as `Authorization: Bearer` (token-plane operations). */
  token?: string;
}

interface BuiltRequest {
  method: string;
  path: string;
  body?: string;
}

/** Turns an operation and its input into method, path (with query) and JSON body. */
export function buildRequest<K extends OperationName>(name: K, input: OperationInput<K>): BuiltRequest {
  const spec = routes[name];
  const rest: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  let path = spec.path;
  for (const param of pathParams(spec.path)) {
    const value = rest[param];
    if (value === undefined || value === null || value === '') {
      throw new BellaError('invalid_argument', `${param} is required`);
    }
    path = path.replace(`:${param}`, encodeURIComponent(String(value)));
    delete rest[param];
  }
  if (spec.method === 'GET' || spec.method === 'DELETE') {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(rest)) {
      if (value !== undefined && value !== null) query.set(key, Array.isArray(value) ? value.join(',') : String(value));
    }
    const qs = query.toString();
    return { method: spec.method, path: qs ? `${path}?${qs}` : path };
  }
  return { method: spec.method, path, body: JSON.stringify(rest) };
}

/** The typed client of the bella daemon, over its local socket. */
export class DaemonClient {
  readonly socketPath: string;
  private readonly timeoutMs: number;
  /** Connections of calls under way, destroyed by {@link close}. */
  private readonly open = new Set<Socket>();

  constructor(options: ClientOptions) {
    this.socketPath = options.socketPath;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Calls one operation; a daemon error is rethrown as the same {@link BellaError}. */
  async call<K extends OperationName>(
    name: K,
    input: OperationInput<K>,
    options: CallOptions = {},
  ): Promise<OperationOutput<K>> {
    const req = buildRequest(name, input);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const answer = await this.send(req, headers);
    return parseAnswer<OperationOutput<K>>(answer.status, answer.body, answer.headers, 'daemon');
  }

  /** True when a daemon answers on the socket. */
  async ping(): Promise<boolean> {
    try {
      await this.call('status', {});
      return true;
    } catch (err) {
      if (isBellaError(err, 'unavailable')) return false;
      throw err;
    }
  }

  /**
   * Subscribes to the daemon's event stream. Resolves once connected; `onEvent` receives each
   * event, `onClose` runs when the stream ends for any reason. Call the returned function to stop.
   */
  async subscribe(onEvent: (event: DaemonEvent) => void, onClose?: (err?: Error) => void): Promise<() => void> {
    const { default: http } = await import('node:http');
    return new Promise((resolve, reject) => {
      const req = http.request({
        socketPath: this.socketPath,
        path: '/v1/events',
        method: 'GET',
        headers: { accept: 'text/event-stream' },
      });
      let settled = false;
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          settled = true;
          reject(new BellaError('internal', `event stream answered HTTP ${res.statusCode}`));
          return;
        }
        settled = true;
        resolve(() => req.destroy());
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = frame
              .split('\n')
              .filter((line) => line.startsWith('data:'))
              .map((line) => line.slice(5).trimStart())
              .join('\n');
            if (data) onEvent(JSON.parse(data) as DaemonEvent);
          }
        });
        res.on('close', () => onClose?.());
      });
      req.on('error', (err) => {
        if (!settled) reject(connectionError(err, this.socketPath));
        else onClose?.(err);
      });
      req.end();
    });
  }

  /** Ends the calls under way (each call has its own connection), so the process can exit. */
  close(): void {
    for (const socket of this.open) socket.destroy();
    this.open.clear();
  }

  private async send(req: BuiltRequest, headers: Record<string, string>): Promise<SocketAnswer> {
    const timeout = () => new BellaError('unavailable', `the daemon did not answer within ${this.timeoutMs} ms`);
    const track = (socket: Socket) => {
      this.open.add(socket);
      return () => this.open.delete(socket);
    };
    try {
      return await socketRequest(this.socketPath, { ...req, headers }, this.timeoutMs, timeout, track);
    } catch (err) {
      throw connectionError(err as Error, this.socketPath);
    }
  }
}

/** Says a call reached no daemon at all: nothing was listening, so nothing of it was done. */
const NOTHING_LISTENING = { listening: false } as const;

/** True when `err` says the call reached no daemon (not when one stopped while answering it). */
export function reachedNoDaemon(err: unknown): boolean {
  return isBellaError(err, 'unavailable') && err.details === NOTHING_LISTENING;
}

function connectionError(err: Error, socketPath: string): Error {
  if (isBellaError(err)) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ECONNREFUSED') {
    return new BellaError(
      'unavailable',
      `no bella daemon is answering on ${socketPath}: start one with \`bella daemon start\``,
      NOTHING_LISTENING,
    );
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return new BellaError(
      'unavailable',
      `the bella daemon on ${socketPath} stopped before it answered: what was asked may or may not be done; ` +
        'look (e.g. `bella leases list`) before you ask again',
    );
  }
  if (code === 'EACCES') {
    return new BellaError(
      'permission_denied',
      `not allowed to connect to ${socketPath}: the daemon belongs to another user`,
    );
  }
  return err;
}
