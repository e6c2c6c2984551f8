import type { Services } from '../../services';
import type { Handlers } from '../handlers';

/** The token plane: what a `bax-` token's holder may do, on the socket and on the TLS listener. */
export function tokenRoutes({ tokens }: Services) {
  return {
    readSecrets: (args, req) => tokens.read(req, args),
    lookupToken: (_args, req) => tokens.lookup(req),
    revokeToken: (args, req) => tokens.revoke(req, args),
  } satisfies Partial<Handlers>;
}
