import type { Services } from '../../services';
import type { Handlers } from '../handler-types';

/** Databases and their roles (admin plane). */
export function databaseRoutes({ databases }: Services) {
  return {
    listDatabases: () => databases.list(),
    addDatabase: (args) => databases.add(args),
    removeDatabase: (args) => databases.remove(args),
    addDatabaseRole: (args) => databases.addRole(args),
    removeDatabaseRole: (args) => databases.removeRole(args),
  } satisfies Partial<Handlers>;
}
