import type { Services } from '../../services';
import type { Handlers } from '../handlers';

/** Secrets on the admin plane, and the token plane's read. */
export function secretRoutes({ secrets, tokens }: Services) {
  return {
    listSecrets: (args) => secrets.list(args),
    getSecret: (args) => secrets.get(args),
    setSecret: (args) => secrets.set(args),
    deleteSecret: (args) => secrets.delete(args),
    importSecrets: (args) => secrets.import(args),
    readSecrets: (args, req) => tokens.read(req, args),
    lookupToken: (_args, req) => tokens.lookup(req),
    revokeToken: (args, req) => tokens.revoke(req, args),
  } satisfies Partial<Handlers>;
}
