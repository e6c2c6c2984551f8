import type { IncomingMessage, ServerResponse } from 'node:http';
import type https from 'node:https';
import { parse as parseQuery } from 'node:querystring';
import {
  BellaError,
  invalidInput,
  isBellaError,
  isExpectedError,
  operations,
  type OperationName,
  type Plane,
} from '../api';
import { CLI_FILE_PATH } from '../api/handover';
import { actingAs, authorize, type Caller, type Services } from '../services';
import type { CliFile } from '../services/listener/cli-file';
import { cliFileRoute } from './cli-file-route';
import { EventStreams } from './event-stream';
import type { Handler, Handlers, RequestInfo } from './handler-types';
import { BodyError, carriesBody, readBody } from './http/body';
import { Router, type RouteEntry } from './http/router';
import { errorAnswer, HttpApp, plainServer, sendJson, type Answer } from './http/serve';

/** Largest request body the daemon reads on the owner's socket. */
export const BODY_LIMIT = 1024 * 1024;

/** Secret keys may be 256 characters long and travel in the path; a longer parameter matches no route (404). */
export const MAX_PARAM_LENGTH = 300;

/** A served route, as a surface's gate sees it. */
export interface ServedRoute {
  plane: Plane;
}

interface Route extends ServedRoute {
  serve(request: IncomingMessage, response: ServerResponse, params: Record<string, string>, query: string): unknown;
}

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
  source(request: IncomingMessage): string;
  /** Builds the server (the listener's hardened HTTPS server); default: a plain HTTP one. */
  server?: () => https.Server;
  /** The one-file CLI served at `GET /v1/cli/bella.mjs` with no token (token-plane surfaces only). */
  cliFile?: CliFile;
  /**
   * The listener: the fingerprint of the device key a request's client certificate carries, and
   * the enrolled device it stands for (admin-plane requests are only routed to one; see listener.ts).
   */
  identity?: {
    device(request: IncomingMessage): string | null;
    caller(request: IncomingMessage): Caller | undefined;
  };
  /**
   * Runs first on every request, before its body is read (the route is null when nothing is
   * served there): an answer returned is sent instead (the listener's `--allow` and admin gate).
   */
  gate?(request: IncomingMessage, route: ServedRoute | null): Answer | undefined | Promise<Answer | undefined>;
  /** Sees every JSON answer before it is sent (the listener's failed-token limiter). */
  beforeSend?(request: IncomingMessage, answer: Answer): Answer;
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
  app: HttpApp;
  closeStreams: () => void;
} {
  const streams = new EventStreams(services.ctx.events);
  const send = (request: IncomingMessage, response: ServerResponse, answer: Answer) =>
    sendJson(response, surface.beforeSend ? surface.beforeSend(request, answer) : answer);

  const routes: Array<RouteEntry<Route>> = [];
  for (const name of Object.keys(operations) as OperationName[]) {
    const spec = operations[name];
    // Defends the admin plane: what a surface does not expose is not routed there at all (404).
    if (!surface.planes.includes(spec.plane)) continue;
    const handler = handlers[name] as Handler<OperationName> | undefined;
    if (!handler) throw new Error(`no handler for ${name}, which this surface serves`);
    const pathParams = spec.path.includes(':');
    const run = async (request: IncomingMessage, params: Record<string, string>, query: string) => {
      // A GET has no body to wait for: its handler starts on this turn.
      const body = carriesBody(request) ? await readBody(request, surface.bodyLimit) : undefined;
      // Defends against bodies that are arrays or scalars being spread into the input.
      if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) {
        throw new BellaError('invalid_argument', 'the request body must be a JSON object');
      }
      // A body alone (no query, no path parameters) is validated as it is: it is this request's own object.
      const raw =
        !query && !pathParams && body
          ? body
          : { ...(query ? parseQuery(query) : {}), ...(body as object | undefined), ...params };
      const parsed = spec.input.safeParse(raw);
      if (!parsed.success) throw invalidInput(parsed.error.issues);
      const info: RequestInfo = { source: surface.source(request) };
      const auth = request.headers.authorization;
      if (auth) info.token = auth.startsWith('Bearer ') ? auth.slice(7).trim() : auth;
      if (surface.identity) info.device = surface.identity.device(request);
      const caller = spec.plane === 'admin' ? surface.identity?.caller(request) : undefined;
      // Defends the admin plane on the listener twice over: no enrolled device, no operation.
      if (surface.identity && spec.plane === 'admin' && caller?.kind !== 'member') throw notFound(request);
      // Awaited: an async function returning a promise takes two more turns to settle.
      if (caller?.kind !== 'member') return await handler(parsed.data as never, info);
      // A teammate's device: what her role and grants allow, audited under her name.
      info.caller = caller;
      const filter = authorize(services.ctx.store.state, caller.member, name, parsed.data as never);
      const out = await actingAs(caller, () => handler(parsed.data as never, info));
      return filter ? filter(out as never) : out;
    };
    routes.push({
      method: spec.method,
      path: spec.path,
      value: {
        plane: spec.plane,
        serve: async (request, response, params, query) =>
          send(request, response, { status: 200, body: await run(request, params, query) }),
      },
    });
  }
  if (surface.cliFile && surface.planes.includes('token')) {
    const serve = cliFileRoute(surface.cliFile);
    routes.push({ method: 'GET', path: CLI_FILE_PATH, value: { plane: 'token', serve } });
  }
  if (surface.events) {
    const serve = (request: IncomingMessage, response: ServerResponse) => streams.attach(request, response);
    routes.push({ method: 'GET', path: '/v1/events', value: { plane: 'admin', serve } });
  }
  const router = new Router(routes, MAX_PARAM_LENGTH);

  const dispatch = async (request: IncomingMessage, response: ServerResponse) => {
    const match = router.find(request.method ?? '', request.url ?? '/');
    try {
      const gated = surface.gate?.(request, match.kind === 'found' ? match.value : null);
      const refusal = gated instanceof Promise ? await gated : gated;
      if (refusal) return send(request, response, refusal);
      if (match.kind === 'bad-url')
        throw new BellaError('invalid_argument', `the request is malformed: ${match.message}`);
      // A path served with other methods is not found with this one either (404, as under fastify).
      if (match.kind !== 'found') throw notFound(request);
      await match.value.serve(request, response, match.params, match.query);
    } catch (error) {
      const err = toBellaError(error);
      if (!isExpectedError(err)) log(`internal error: ${(error as Error).stack ?? String(error)}`);
      // A refused body may still be arriving: the connection is not reused.
      send(request, response, errorAnswer(err, error instanceof BodyError ? { connection: 'close' } : undefined));
    }
  };

  const app = new HttpApp(surface.server ? surface.server() : plainServer(), (request, response) => {
    void dispatch(request, response);
  });
  return {
    app,
    closeStreams: () => streams.closeAll(),
  };
}

/** The answer to a path that is not served (or, on the listener, an admin path without an enrolled device). */
export function notFound(request: IncomingMessage): BellaError {
  return new BellaError('not_found', `no such endpoint: ${request.method} ${(request.url ?? '').split('?')[0]}`);
}

function toBellaError(error: unknown): BellaError {
  if (isBellaError(error)) return error;
  return new BellaError('internal', 'internal error in the bella daemon; details are in its log (daemon.log)');
}
