import http from 'node:http';
// Light imports only: the CLI bundles this client and must not load the schema library.
import { BellaError, isBellaError } from '../api/errors';
import type { DaemonEvent } from '../api/events';
import type { OperationInput } from '../api/operations';
import { pathParams, routes, type OperationName, type OperationOutput } from '../api/routes';
import { parseAnswer } from './response';

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
  private readonly agent = new http.Agent({ keepAlive: true });

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
  subscribe(onEvent: (event: DaemonEvent) => void, onClose?: (err?: Error) => void): Promise<() => void> {
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

  /** Closes idle keep-alive connections so the process can exit. */
  close(): void {
    this.agent.destroy();
  }

  private send(
    req: BuiltRequest,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
      const r = http.request(
        {
          socketPath: this.socketPath,
          path: req.path,
          method: req.method,
          headers,
          agent: this.agent,
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
      r.on('timeout', () =>
        r.destroy(new BellaError('unavailable', `the daemon did not answer within ${this.timeoutMs} ms`)),
      );
      r.on('error', (err) => reject(connectionError(err, this.socketPath)));
      r.end(req.body);
    });
  }
}

function connectionError(err: Error, socketPath: string): Error {
  if (isBellaError(err)) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE') {
    return new BellaError(
      'unavailable',
      `no bella daemon is answering on ${socketPath}: start one with \`bella daemon start\``,
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
