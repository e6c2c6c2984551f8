import type { Services } from '../../services';
import type { Handlers } from '../handler-types';

/** Secrets on the admin plane. */
export function secretRoutes({ secrets }: Services) {
  return {
    listSecrets: (args) => secrets.list(args),
    getSecret: (args) => secrets.get(args),
    setSecret: (args) => secrets.set(args),
    deleteSecret: (args) => secrets.delete(args),
    importSecrets: (args) => secrets.import(args),
  } satisfies Partial<Handlers>;
}
