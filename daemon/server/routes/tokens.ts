import type { Services } from '../../services';
import type { Handlers } from '../handler-types';

/** The token plane: what a `bax-` token's holder may do, on the socket and on the TLS listener. */
export function tokenRoutes({ tokenPlane, ciLogin }: Services) {
  return {
    readSecrets: (args, req) => tokenPlane.read(req, args),
    lookupToken: (_args, req) => tokenPlane.lookup(req),
    revokeToken: (args, req) => tokenPlane.revoke(req, args),
    // A CI job's OIDC JWT for a lease (issue 18): the token plane, as a holder with no token yet.
    ciLogin: (args, req) => ciLogin.login(req, args),
  } satisfies Partial<Handlers>;
}
