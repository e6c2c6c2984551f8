import type { IncomingHttpHeaders } from 'node:http';
import { BellaError } from '../api/errors';

/**
 * Turns one HTTP answer into the operation's output, or throws the {@link BellaError} it
 * carries (`BellaError.fromWire`): the one parser of answers, for the daemon's socket
 * (DaemonClient) and a remote token plane (RemoteClient) alike. `who` names the answering side in
 * messages ("daemon", "the bella server at https://…"). A 429 without a wire body still says
 * when to retry.
 */
export function parseAnswer<T>(status: number, body: string, headers: IncomingHttpHeaders, who: string): T {
  let parsed: unknown;
  try {
    parsed = body.length ? JSON.parse(body) : {};
  } catch {
    throw new BellaError('internal', `${who} answered HTTP ${status} with a body that is not JSON`);
  }
  if (status < 400) return parsed as T;
  const err = BellaError.fromWire(parsed, status);
  if (status === 429 && err.code === 'internal') {
    const retryAfterSeconds = Number(headers['retry-after']) || 1;
    throw new BellaError(
      'unavailable',
      `${who} refuses more token attempts from this address for now: try again in ${retryAfterSeconds} s with the right token`,
      { retryAfterSeconds },
    );
  }
  throw err;
}
