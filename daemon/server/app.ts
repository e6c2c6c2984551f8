import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { BellaError, HTTP_STATUS, invalidInput, operations, type OperationName } from '../api';
import type { Services } from '../services';
import { EventStreams } from './event-stream';
import type { Handler, Handlers, RequestInfo } from './handlers';

/** Largest request body the daemon reads. */
export const BODY_LIMIT = 1024 * 1024;

/** The HTTP app over the services: every operation of the contract, validated at the edge. */
export function createApp(
  services: Services,
  handlers: Handlers,
  log: (msg: string) => void,
): {
  app: FastifyInstance;
  closeStreams: () => void;
} {
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
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
      if (!socket.writable) return;
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
      socket.end(
        `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    },
  });
  const streams = new EventStreams(services.ctx.events);

  for (const name of Object.keys(operations) as OperationName[]) {
    const spec = operations[name];
    const handler = handlers[name] as Handler<OperationName>;
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
        const info: RequestInfo = { source: 'socket' };
        const auth = request.headers.authorization;
        if (auth) info.token = auth.startsWith('Bearer ') ? auth.slice(7).trim() : auth;
        return handler(parsed.data as never, info);
      },
    });
  }

  app.get('/v1/events', (request, reply) => streams.attach(request, reply));

  app.setNotFoundHandler((request, reply) => {
    const err = new BellaError('not_found', `no such endpoint: ${request.method} ${request.url.split('?')[0]}`);
    void reply.status(HTTP_STATUS[err.code]).send(err.toWire());
  });

  app.setErrorHandler((error: FastifyError | BellaError | Error, _request, reply) => {
    const err = toBellaError(error);
    if (!err.expected) log(`internal error: ${error.stack ?? error.message}`);
    void reply.status(HTTP_STATUS[err.code]).send(err.toWire());
  });

  return {
    app,
    closeStreams: () => streams.closeAll(),
  };
}

function toBellaError(error: FastifyError | BellaError | Error): BellaError {
  if (error instanceof BellaError) return error;
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
