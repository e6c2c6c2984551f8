import type { Services } from '../../services';
import type { Handlers } from '../handlers';

/** Secrets on the admin plane, and the token plane's read. */
export function secretRoutes({ secrets, leases }: Services) {
  return {
    listSecrets: (args) => secrets.list(args),
    getSecret: (args) => secrets.get(args),
    setSecret: (args) => secrets.set(args),
    deleteSecret: (args) => secrets.delete(args),
    importSecrets: (args) => secrets.import(args),
    readSecrets: (args, req) => leases.readWithToken(req.token, args),
    lookupToken: (_args, req) => leases.lookupToken(req.token),
    revokeToken: (args, req) => leases.revokeWithToken(req.token, args),
  } satisfies Partial<Handlers>;
}
