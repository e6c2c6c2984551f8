import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { BellaError, HTTP_STATUS } from '../api';
import { deviceFingerprint, type Caller, type Services } from '../services';
import { sourceName } from '../services/listener/admission';
import type { CertificatePair } from '../services/listener/certificate';
import type { CliFile } from '../services/listener/cli-file';
import { splitAddress } from '../services/listener/holder-urls';
import { formatBound, type Admit, type ListenerBinding } from '../services/listener/service';
import { createApp, notFound } from './app';
import type { Handlers } from './handler-types';
import { errorAnswer, type Answer, type HttpApp } from './http/serve';
import { limitConnectionsPerSource } from './tls/connection-cap';
import { createHardenedServer, LISTENER_LIMITS } from './tls/hardening';

/** A node's role as the listener sees it (node-role.ts): a standby answers every request itself. */
export interface StandbyGate {
  readonly active: boolean;
  standbyAnswer(request: IncomingMessage): Promise<Answer | undefined>;
}

/** The device fingerprint of each TLS connection, worked out once per connection. */
const DEVICES = new WeakMap<object, string | null>();

/** The source address of each TLS connection as the audit trail names it, worked out once per connection. */
const SOURCES = new WeakMap<object, string>();

/** The request's source address, normalised ({@link sourceName}). */
function sourceOf(request: IncomingMessage): string {
  const socket = request.socket;
  let source = SOURCES.get(socket);
  if (source === undefined) {
    source = sourceName(socket.remoteAddress);
    // A connection already closed has no address left to name: not kept.
    if (socket.remoteAddress !== undefined) SOURCES.set(socket, source);
  }
  return source;
}

/** The fingerprint of the device key whose certificate the request's connection presented, or null. */
function deviceOf(request: IncomingMessage): string | null {
  const socket = request.socket as TLSSocket;
  let device = DEVICES.get(socket);
  if (device === undefined) {
    device =
      typeof socket.getPeerX509Certificate === 'function' ? deviceFingerprint(socket.getPeerX509Certificate()) : null;
    DEVICES.set(socket, device);
  }
  return device;
}

/**
 * Binds the opt-in TLS listener: the token plane — reading a lease's secrets, the holder's own
 * lease — on a hardened HTTPS server for other machines; the admin plane only to an enrolled
 * device presenting its client certificate, as its role and grants allow (404 to anyone else,
 * as if it did not exist); never the event stream. Per source address: at most {@link LISTENER_LIMITS}.maxConnectionsPerSource
 * connections at once; what else a source is refused (`--allow`, the failed-token limiter) is
 * decided by the listener service's `admit`. Settings, certificates and their audit are the
 * service's (`daemon/services/listener/service.ts`).
 */
export class TlsListener implements ListenerBinding {
  private app: HttpApp | null = null;

  constructor(
    private readonly services: Services,
    /** Every handler: the token plane for all, the admin plane for enrolled devices. */
    private readonly handlers: () => Partial<Handlers>,
    private readonly log: (message: string) => void,
    /** The one-file CLI, served with no token at `GET /v1/cli/bella.mjs`. */
    private readonly cliFile?: CliFile,
    /** On PostgreSQL: while this node is a standby, every request is answered by a redirect or 503. */
    private readonly role?: StandbyGate | null,
  ) {}

  /** The bound address, while serving. */
  bound(): AddressInfo | null {
    return this.app?.address() ?? null;
  }

  /** Serves on `address` with `pair`; the server serving now stops first (a failed bind leaves none). */
  async bind(address: string, pair: CertificatePair, admit: Admit): Promise<void> {
    const { host, port } = splitAddress(address);
    const team = this.services.team;
    // Who a request is: the device its client certificate names, if that device is enrolled.
    const callers = new WeakMap<IncomingMessage, Caller | 'removed' | null>();
    const callerOf = (request: IncomingMessage) => {
      if (!callers.has(request)) {
        const device = deviceOf(request);
        callers.set(request, device ? team.identify(device) : null);
      }
      return callers.get(request)!;
    };
    const refuseRemoved = async (request: IncomingMessage) => {
      await team.refuseRemoved(deviceOf(request)!, sourceOf(request), request.method ?? '');
      return errorAnswer(
        new BellaError(
          'permission_denied',
          'this device was removed from the team: ask the owner for a new invite (bella team invite NAME)',
        ),
      );
    };
    const { app } = createApp(this.services, this.handlers(), this.log, {
      planes: ['token', 'admin'],
      identity: {
        device: deviceOf,
        caller: (request) => {
          const c = callerOf(request);
          return c === 'removed' || c === null ? undefined : c;
        },
      },
      events: false,
      bodyLimit: LISTENER_LIMITS.bodyLimitBytes,
      source: sourceOf,
      ...(this.cliFile ? { cliFile: this.cliFile } : {}),
      server: () => {
        const server = createHardenedServer(pair);
        const max = LISTENER_LIMITS.maxConnectionsPerSource;
        limitConnectionsPerSource(server, max, (peer) => admit(peer, { kind: 'connection-cap', max }));
        return server;
      },
      gate: (request, route) => {
        // `--allow`: a request from outside the list is answered 403 before any route runs.
        const refusal = admit(request.socket.remoteAddress, { kind: 'request' });
        if (refusal) return errorAnswer(refusal.error, { connection: 'close' });
        if (this.role && !this.role.active) return this.role.standbyAnswer(request);
        // The admin plane: without an enrolled device's certificate it does not exist (404, before
        // input is even read); a removed device is told so, from its very next request.
        if (route?.plane !== 'admin') return undefined;
        const caller = callerOf(request);
        if (caller === null) return errorAnswer(notFound(request));
        return caller === 'removed' ? refuseRemoved(request) : undefined;
      },
      // The failed-token limiter: a refused token (401) past the allowance is answered 429.
      beforeSend: (request, answer) => {
        if (answer.status !== HTTP_STATUS.unauthenticated) return answer;
        const refusal = admit(request.socket.remoteAddress, { kind: 'refused-token' });
        if (!refusal) return answer;
        return errorAnswer(refusal.error, { ...answer.headers, 'retry-after': String(refusal.retryAfterSeconds) });
      },
    });
    await this.unbind();
    try {
      await app.listen({ host, port });
    } catch (err) {
      await app.close();
      throw bindError(err, address);
    }
    this.app = app;
    this.log(
      `listener: serving the token plane (and enrolled devices) on ${formatBound(this.bound()!)} (${pair.fingerprint})`,
    );
  }

  /** Stops serving. */
  async unbind(): Promise<void> {
    const app = this.app;
    this.app = null;
    if (app) await app.close();
  }
}

function bindError(err: unknown, address: string): BellaError {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EADDRINUSE':
      return new BellaError('conflict', `${address} is already in use: choose another with --address HOST:PORT`);
    case 'EACCES':
      return new BellaError(
        'permission_denied',
        `not allowed to listen on ${address} (ports below 1024 need privileges): choose --address HOST:PORT with a port of 1024 or more`,
      );
    case 'EADDRNOTAVAIL':
      return new BellaError(
        'invalid_argument',
        `${address} is not an address of this machine: choose --address HOST:PORT with one of its addresses, or 0.0.0.0`,
      );
    default:
      return new BellaError('unavailable', `cannot listen on ${address}: ${(err as Error).message}`);
  }
}
