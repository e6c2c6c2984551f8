import type { Services } from '../../services';
import type { Handlers } from '../handler-types';

/** The token plane: what a `bax-` token's holder may do, on the socket and on the TLS listener. */
export function tokenRoutes({ tokenPlane }: Services) {
  return {
    readSecrets: (args, req) => tokenPlane.read(req, args),
    lookupToken: (_args, req) => tokenPlane.lookup(req),
    revokeToken: (args, req) => tokenPlane.revoke(req, args),
  } satisfies Partial<Handlers>;
}
