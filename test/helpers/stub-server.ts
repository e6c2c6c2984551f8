import type http from 'node:http';
import type https from 'node:https';
import type tls from 'node:tls';
import { createHardenedServer, type ServedPair } from '../../daemon/server/tls/hardening';

/** What reaches a stub: a finished handshake, application bytes after one, a parsed request. */
export type StubEvent =
  | { handshake: number }
  | { bytes: number; data: string }
  | { request: { method: string | undefined; url: string | undefined; authorization: string | null } };

/** The stub's default answer, shaped like `readSecrets`. */
export const STUB_ANSWER = {
  project: 'app',
  environment: 'prod',
  leaseId: 'lease1',
  expiresAt: 'soon',
  secrets: { API_KEY: 'k-1' },
};

/**
 * A stand-in for a bella TLS listener: the listener's hardening and certificate, answering
 * every request with {@link STUB_ANSWER} (or `answer`), reporting everything that reaches it.
 * Bytes are counted on the server-side TLS sockets, so the handshake is not among them.
 */
export function createStubServer(
  cert: ServedPair,
  report: (event: StubEvent) => void,
  answer?: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): https.Server {
  let handshakes = 0;
  const server = createHardenedServer(cert, (req, res) => {
    report({ request: { method: req.method, url: req.url, authorization: req.headers.authorization ?? null } });
    if (answer) return answer(req, res);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(STUB_ANSWER));
  });
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    report({ handshake: ++handshakes });
    socket.on('data', (d: Buffer) => report({ bytes: d.length, data: d.toString('latin1') }));
  });
  return server;
}
