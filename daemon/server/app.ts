import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerFactory,
} from 'fastify';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import {
  BellaError,
  HTTP_STATUS,
  invalidInput,
  isBellaError,
  isExpectedError,
  operations,
  type OperationName,
  type Plane,
} from '../api';
import { actingAs, authorize, type Caller, type Services } from '../services';
import type { CliFile } from '../services/listener/cli-file';
import { registerCliFileRoute } from './cli-file-route';
import { EventStreams } from './event-stream';
import type { Handler, Handlers, RequestInfo } from './handler-types';

/** Largest request body the daemon reads on the owner's socket. */
export const BODY_LIMIT = 1024 * 1024;

/**
 * Where an app is served and what it exposes there: the owner's socket serves every operation
 * and the event stream; the TLS listener only the token plane, to other machines.
 */
export interface Surface {
  planes: readonly Plane[];
  /** Serve `/v1/events`. */
  events: boolean;
  bodyLimit: number;
  /** How a request's source is written in the audit trail. */
  source(request: FastifyRequest): string;
  /** Builds the server (the listener's hardened HTTPS server); default: fastify's plain HTTP one. */
  serverFactory?: FastifyServerFactory;
  /** The one-file CLI served at `GET /v1/cli/bella.mjs` with no token (token-plane surfaces only). */
  cliFile?: CliFile;
  /**
   * The listener: the fingerprint of the device key a request's client certificate carries, and
   * the enrolled device it stands for (admin-plane requests are only routed to one; see listener.ts).
   */
  identity?: {
    device(request: FastifyRequest): string | null;
    caller(request: FastifyRequest): Caller | undefined;
  };
}

/** The owner's socket: everything. */
export const SOCKET_SURFACE: Surface = {
  planes: ['admin', 'token'],
  events: true,
  bodyLimit: BODY_LIMIT,
  source: () => 'socket',
};

/** The HTTP app over the services: the operations of the contract a surface exposes, validated at the edge. */
export function createApp(
  services: Services,
  handlers: Partial<Handlers>,
  log: (msg: string) => void,
  surface: Surface = SOCKET_SURFACE,
): {
  app: FastifyInstance;
  closeStreams: () => void;
} {
  const app = Fastify({
    bodyLimit: surface.bodyLimit,
    ...(surface.serverFactory ? { serverFactory: surface.serverFactory } : {}),
    // Secret keys may be 256 characters long and travel in the path.
    maxParamLength: 300,
    logger: false,
    return503OnClosing: true,
    forceCloseConnections: true,
    // Errors raised before routing (a path that is not valid percent-encoding) get the wire form too.
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      const err = new BellaError('invalid_argument', `the request is malformed: ${error.message}`);
      void reply.status(HTTP_STATUS[err.code]).send(err.toWire());
    },
    // Bytes that are not HTTP at all: answer with a wire error and close that connection only.
    clientErrorHandler: (error, socket) => {
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
    },
  });
  const streams = new EventStreams(services.ctx.events);

  for (const name of Object.keys(operations) as OperationName[]) {
    const spec = operations[name];
    // Defends the admin plane: what a surface does not expose is not routed there at all (404).
    if (!surface.planes.includes(spec.plane)) continue;
    const handler = handlers[name] as Handler<OperationName> | undefined;
    if (!handler) throw new Error(`no handler for ${name}, which this surface serves`);
    app.route({
      method: spec.method,
      url: spec.path,
      handler: async (request) => {
        const body = request.body;
        // Defends against bodies that are arrays or scalars being spread into the input.
        if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) {
          throw new BellaError('invalid_argument', 'the request body must be a JSON object');
        }
        const raw = { ...(request.query as object), ...(body as object | undefined), ...(request.params as object) };
        const parsed = spec.input.safeParse(raw);
        if (!parsed.success) throw invalidInput(parsed.error.issues);
        const info: RequestInfo = { source: surface.source(request) };
        const auth = request.headers.authorization;
        if (auth) info.token = auth.startsWith('Bearer ') ? auth.slice(7).trim() : auth;
        if (surface.identity) info.device = surface.identity.device(request);
        const caller = spec.plane === 'admin' ? surface.identity?.caller(request) : undefined;
        // Defends the admin plane on the listener twice over: no enrolled device, no operation.
        if (surface.identity && spec.plane === 'admin' && caller?.kind !== 'member') throw notFound(request);
        if (caller?.kind !== 'member') return handler(parsed.data as never, info);
        // A teammate's device: what her role and grants allow, audited under her name.
        info.caller = caller;
        const filter = authorize(services.ctx.store.state, caller.member, name, parsed.data as never);
        const out = await actingAs(caller, () => handler(parsed.data as never, info));
        return filter ? filter(out as never) : out;
      },
    });
  }

  if (surface.cliFile && surface.planes.includes('token')) registerCliFileRoute(app, surface.cliFile);
  if (surface.events) app.get('/v1/events', (request, reply) => streams.attach(request, reply));

  app.setNotFoundHandler((request, reply) => {
    const err = notFound(request);
    void reply.status(HTTP_STATUS[err.code]).send(err.toWire());
  });

  app.setErrorHandler((error: FastifyError | BellaError | Error, _request, reply) => {
    const err = toBellaError(error);
    if (!isExpectedError(err)) log(`internal error: ${error.stack ?? error.message}`);
    void reply.status(HTTP_STATUS[err.code]).send(err.toWire());
  });

  return {
    app,
    closeStreams: () => streams.closeAll(),
  };
}

/** The answer to a path that is not served (or, on the listener, an admin path without an enrolled device). */
export function notFound(request: FastifyRequest): BellaError {
  return new BellaError('not_found', `no such endpoint: ${request.method} ${request.url.split('?')[0]}`);
}

function toBellaError(error: FastifyError | BellaError | Error): BellaError {
  if (isBellaError(error)) return error;
  const fe = error as FastifyError;
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new BellaError('invalid_argument', `the request body is larger than ${BODY_LIMIT / 1024 / 1024} MiB`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new BellaError('invalid_argument', 'send the request body as JSON (content-type: application/json)');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new BellaError('invalid_argument', 'the JSON request body is empty: send an object, at least {}');
  }
  if (error instanceof SyntaxError || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new BellaError('invalid_argument', `the request body is not valid JSON: ${error.message}`);
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode < 500)
    return new BellaError('invalid_argument', error.message);
  return new BellaError('internal', 'internal error in the bella daemon; details are in its log (daemon.log)');
}
