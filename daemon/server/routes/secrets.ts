import type { Services } from '../../services';
import type { Handlers } from '../handler-types';

/** Secrets on the admin plane, their history and the trash. */
export function secretRoutes({ secrets, history, rotations }: Services) {
  return {
    listSecrets: (args) => secrets.list(args),
    getSecret: (args) => secrets.get(args),
    setSecret: (args) => secrets.set(args),
    deleteSecret: (args) => secrets.delete(args),
    importSecrets: (args) => secrets.import(args),
    secretHistory: (args) => history.history(args),
    rollbackSecret: (args) => history.rollback(args),
    rotateSecret: (args) => rotations.rotate(args),
    listTrash: (args) => history.listTrash(args),
    restoreSecret: (args) => history.restore(args),
    purgeSecret: (args) => history.purge(args),
  } satisfies Partial<Handlers>;
}
