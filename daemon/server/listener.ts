import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { BellaError, HTTP_STATUS } from '../api';
import type { Services } from '../services';
import { sourceName } from '../services/listener/admission';
import type { CertificatePair } from '../services/listener/certificate';
import type { CliFile } from '../services/listener/cli-file';
import { splitAddress } from '../services/listener/holder-urls';
import { formatBound, type Admit, type ListenerBinding } from '../services/listener/service';
import { createApp } from './app';
import type { Handlers } from './handler-types';
import { limitConnectionsPerSource } from './tls/connection-cap';
import { createHardenedServer, LISTENER_LIMITS } from './tls/hardening';

/**
 * Binds the opt-in TLS listener: the token plane — reading a lease's secrets, the holder's own
 * lease — on a hardened HTTPS server for other machines, never the admin plane or the event
 * stream (404 there). Per source address: at most {@link LISTENER_LIMITS}.maxConnectionsPerSource
 * connections at once; what else a source is refused (`--allow`, the failed-token limiter) is
 * decided by the listener service's `admit`. Settings, certificates and their audit are the
 * service's (`daemon/services/listener/service.ts`).
 */
export class TlsListener implements ListenerBinding {
  private app: FastifyInstance | null = null;

  constructor(
    private readonly services: Services,
    private readonly handlers: Partial<Handlers>,
    private readonly log: (message: string) => void,
    /** The one-file CLI, served with no token at `GET /v1/cli/bella.mjs`. */
    private readonly cliFile?: CliFile,
  ) {}

  /** The bound address, while serving. */
  bound(): AddressInfo | null {
    return (this.app?.server.address() as AddressInfo | null | undefined) ?? null;
  }

  /** Serves on `address` with `pair`; the server serving now stops first (a failed bind leaves none). */
  async bind(address: string, pair: CertificatePair, admit: Admit): Promise<void> {
    const { host, port } = splitAddress(address);
    const { app } = createApp(this.services, this.handlers, this.log, {
      planes: ['token'],
      events: false,
      bodyLimit: LISTENER_LIMITS.bodyLimitBytes,
      source: (request) => sourceName(request.socket.remoteAddress),
      ...(this.cliFile ? { cliFile: this.cliFile } : {}),
      serverFactory: (handler) => {
        const server = createHardenedServer(pair, handler);
        const max = LISTENER_LIMITS.maxConnectionsPerSource;
        limitConnectionsPerSource(server, max, (peer) => admit(peer, { kind: 'connection-cap', max }));
        return server;
      },
    });
    // `--allow`: a request from outside the list is answered 403 before any route runs.
    app.addHook('onRequest', (request, reply, done) => {
      const refusal = admit(request.socket.remoteAddress, { kind: 'request' });
      if (!refusal) return done();
      void reply.status(HTTP_STATUS[refusal.error.code]).header('connection', 'close').send(refusal.error.toWire());
    });
    // The failed-token limiter: a refused token (401) past the allowance is answered 429.
    app.addHook('onSend', (request, reply, payload, done) => {
      if (reply.statusCode !== HTTP_STATUS.unauthenticated) return done(null, payload);
      const refusal = admit(request.socket.remoteAddress, { kind: 'refused-token' });
      if (!refusal) return done(null, payload);
      void reply.status(HTTP_STATUS[refusal.error.code]).header('retry-after', String(refusal.retryAfterSeconds));
      done(null, JSON.stringify(refusal.error.toWire()));
    });
    await this.unbind();
    try {
      await app.listen({ host, port });
    } catch (err) {
      await app.close().catch(() => undefined);
      throw bindError(err, address);
    }
    this.app = app;
    this.log(`listener: serving the token plane on ${formatBound(this.bound()!)} (${pair.fingerprint})`);
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
