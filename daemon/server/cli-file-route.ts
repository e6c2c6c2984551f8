import type { FastifyInstance } from 'fastify';
import { BellaError, HTTP_STATUS } from '../api';
import { CLI_FILE_PATH } from '../api/handover';
import type { CliFile } from '../services/listener/cli-file';

/**
 * `GET /v1/cli/bella.mjs`: the one-file CLI, for holders installing bella with curl. The only route
 * that answers something other than JSON and needs no token, so it is registered here rather than
 * in the contract (whose operations are JSON in, JSON out, called through the typed client). It is
 * on every surface that serves the token plane (the listener and the socket), behind the same
 * hooks (`--allow`, the connection cap) as the token plane there.
 */
export function registerCliFileRoute(app: FastifyInstance, file: CliFile): void {
  // Security: the same public bytes for everyone, read once at start; no token is looked at and
  // nothing is read from the store, so this route reveals nothing a holder could not already get
  // from the package. Its integrity on the wire rests on TLS with the pinned key (curl
  // --pinnedpubkey); the SHA-256 header lets a holder compare it with what the owner has.
  const etag = file.ok ? `"sha256-${file.sha256}"` : null;
  app.get(CLI_FILE_PATH, (request, reply) => {
    if (!file.ok) {
      const err = new BellaError('unavailable', file.problem);
      return reply.status(HTTP_STATUS[err.code]).send(err.toWire());
    }
    void reply
      .header('etag', etag)
      .header('x-bella-sha256', file.sha256)
      .header('cache-control', 'no-cache')
      // Never sniffed as anything but a script: it is saved to disk, not run by a browser.
      .header('x-content-type-options', 'nosniff');
    if (request.headers['if-none-match'] === etag) return reply.status(304).send();
    return reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('content-length', file.bytes.length)
      .send(file.bytes);
  });
}
