import type { IncomingMessage, ServerResponse } from 'node:http';
import { BellaError } from '../api';
import type { CliFile } from '../services/listener/cli-file';
import { errorAnswer, sendJson } from './http/serve';

/**
 * `GET /v1/cli/bella.mjs`: the one-file CLI, for holders installing bella with curl. The only route
 * that answers something other than JSON and needs no token, so it is served here rather than
 * in the contract (whose operations are JSON in, JSON out, called through the typed client). It is
 * on every surface that serves the token plane (the listener and the socket), behind the same
 * gate (`--allow`, the connection cap) as the token plane there. Returns the route's handler.
 */
export function cliFileRoute(file: CliFile): (request: IncomingMessage, response: ServerResponse) => void {
  // Security: the same public bytes for everyone, hashed at start and re-read per download (the
  // bytes of start or none); no token is looked at and nothing is read from the store, so this
  // route reveals nothing a holder could not already get from the package. Its integrity on the
  // wire rests on TLS with the pinned key (curl --pinnedpubkey); the SHA-256 header lets a holder
  // compare it with what the owner has.
  if (!file.ok) {
    const err = new BellaError('unavailable', file.problem);
    return (_request, response) => sendJson(response, errorAnswer(err));
  }
  const etag = `"sha256-${file.sha256}"`;
  const headers = {
    etag,
    'x-bella-sha256': file.sha256,
    'cache-control': 'no-cache',
    // Never sniffed as anything but a script: it is saved to disk, not run by a browser.
    'x-content-type-options': 'nosniff',
  };
  return (request, response) => {
    if (request.headers['if-none-match'] === etag) {
      response.writeHead(304, headers).end();
      return;
    }
    file.bytes().then(
      (bytes) => {
        response.writeHead(200, {
          ...headers,
          'content-type': 'text/javascript; charset=utf-8',
          'content-length': bytes.length,
        });
        response.end(bytes);
      },
      (err: unknown) => {
        // A file gone (ENOENT) or changed since start: the message says which, and what to do.
        const why = (err as NodeJS.ErrnoException).code ?? '';
        const text = `this daemon cannot serve its CLI file: ${why ? `${why}, ` : ''}${(err as Error).message}`;
        sendJson(response, errorAnswer(new BellaError('unavailable', text)));
      },
    );
  };
}
