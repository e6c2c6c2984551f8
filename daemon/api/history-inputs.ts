import * as z from 'zod';
import { DatabaseName } from './database-inputs';
import { EnvironmentRef, Flag, SecretKey } from './schemas';

const KeyRef = () => EnvironmentRef().extend({ key: SecretKey() });
/** A version number as `--to N` gives it. */
const Version = () =>
  z.coerce
    .number({ message: 'give the version as a whole number, e.g. --to 3' })
    .int('give the version as a whole number, e.g. --to 3')
    .positive('versions start at 1: see bella secrets history KEY');

/** The input schemas of the history and trash operations (operations.ts), each built at its first use. */
export const historyInputs = {
  secretHistory: () => KeyRef().extend({ reveal: Flag().optional() }),
  rollbackSecret: () => KeyRef().extend({ to: Version() }),
  rotateSecret: () =>
    KeyRef().extend({
      database: DatabaseName(),
      user: z
        .string()
        .min(1)
        .max(63, 'Postgres role names are at most 63 bytes')
        .refine((n) => !/[\p{Cc}]/u.test(n), 'user names may not hold control characters'),
    }),
  listTrash: () => EnvironmentRef(),
  restoreSecret: () => KeyRef(),
  purgeSecret: () => KeyRef(),
};
