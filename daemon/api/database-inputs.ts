import * as z from 'zod';
import { EnvironmentRef, once } from './schemas';

/** A database's name: also its key's stem (`pg-prod` -> `PG_PROD_URL`). */
export const DatabaseName = once(() =>
  z
    .string()
    .regex(
      /^[a-z][a-z0-9-]{0,39}$/,
      'database names are 1–40 lowercase letters, digits or dashes, starting with a letter',
    ),
);

/** A role's name within a database (bella's name for a set of groups, not a Postgres role). */
export const DatabaseRoleName = once(() =>
  z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, 'role names are 1–40 lowercase letters, digits, dashes or underscores'),
);

/** A Postgres group role's name, as it is in pg_roles (escaped by bella when used). */
const GroupName = () =>
  z
    .string()
    .min(1)
    .max(63, 'Postgres role names are at most 63 bytes')
    // Defends the log and the terminal: group names are shown and audited as they are.
    .refine((n) => !/[\p{Cc}]/u.test(n), 'group names may not hold control characters');

/** `DB:ROLE` of `--db`. */
export const DatabaseRef = once(() =>
  z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,39}:[a-z][a-z0-9_-]{0,39}$/, 'give --db as DATABASE:ROLE, e.g. --db pg-prod:readonly'),
);

/** A postgres:// URL with a user and a password (the admin URL bella connects with). */
const PostgresUrl = () =>
  z
    .string()
    .max(4096)
    .refine((u) => {
      try {
        const url = new URL(u);
        return (
          (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '' && url.username !== ''
        );
      } catch {
        return false;
      }
    }, 'give --url as postgres://ADMIN:PASSWORD@HOST:PORT/DBNAME');

/** The input schemas of the database operations (operations.ts), each built at its first use. */
export const databaseInputs = {
  listDatabases: () => z.object({}),
  addDatabase: () => EnvironmentRef().extend({ name: DatabaseName(), url: PostgresUrl() }),
  removeDatabase: () => z.object({ name: DatabaseName() }),
  addDatabaseRole: () =>
    z.object({
      database: DatabaseName(),
      role: DatabaseRoleName(),
      memberOf: z.array(GroupName()).min(1, 'name at least one group role: --member-of GROUP').max(20),
    }),
  removeDatabaseRole: () => z.object({ database: DatabaseName(), role: DatabaseRoleName() }),
};
