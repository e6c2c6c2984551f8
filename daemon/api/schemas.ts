import * as z from 'zod';
import { AUDIT_EVENTS, LEASE_STATUSES, OUTCOMES, SCOPE_ENTRY_PATTERN, SECRET_KEY_PATTERN } from './types';

// The value lists and their types are declared once, in types.ts (free of zod); the schemas are built from them.
export type {
  AuditEntry,
  AuditEvent,
  Environment,
  Lease,
  LeasePolicy,
  LeaseStatus,
  Outcome,
  Project,
  Secret,
} from './types';

/**
 * Builds a schema at its first use and keeps it (issue 21): a daemon, a CLI run or the relay builds
 * the schemas of what it uses, not all of them. The building blocks below are each such a function.
 */
export function once<T>(build: () => T): () => T {
  let built: T | undefined;
  return () => (built ??= build());
}

/** A project or environment slug: lowercase letters, digits and dashes. */
export const Slug = once(() =>
  z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9-]{0,62}$/,
      'use 1–63 lowercase letters, digits or dashes, starting with a letter or digit',
    ),
);

/** A secret key, usable as an environment variable name. */
export const SecretKey = once(() =>
  z
    .string()
    .max(256)
    .regex(SECRET_KEY_PATTERN, 'keys are letters, digits and underscores, not starting with a digit')
    // Defends the JSON state against prototype pollution through a key named like the prototype accessor.
    .refine((key) => key !== '__proto__', '__proto__ is reserved: choose another key name'),
);

/** A scope entry: a key name or a `*`-glob over key names. */
export const ScopeEntry = once(() =>
  z.string().max(256).regex(SCOPE_ENTRY_PATTERN, 'scope entries are key names or *-globs such as STRIPE_*'),
);

/** A secret value: any text up to 256 KiB. */
export const SecretValue = once(() =>
  z
    .string()
    .max(262_144, 'secret values are limited to 256 KiB')
    // Defends `bella run`: an environment variable cannot hold a NUL byte, so such a value could never be used.
    .refine((value) => !value.includes('\0'), 'secret values cannot contain a NUL byte (\\0)'),
);

/** Why a lease is issued; kept in the audit trail. */
export const Reason = once(() => z.string().trim().min(1, 'say why this access is needed').max(1000));
/** Seconds, a whole positive number of at most a year. */
export const Seconds = once(() =>
  z.coerce
    .number()
    .int()
    .positive()
    .max(366 * 86400, 'at most 366 days'),
);
/** A boolean that also accepts `"true"`/`"false"` from a query string. */
export const Flag = once(() => z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]));

/** A lease status, one of {@link LEASE_STATUSES}. */
export const LeaseStatusSchema = once(() => z.enum(LEASE_STATUSES));

/** An audit outcome, one of {@link OUTCOMES}. */
export const OutcomeSchema = once(() => z.enum(OUTCOMES));

/** An audit event name, one of {@link AUDIT_EVENTS}. */
export const AuditEventSchema = once(() => z.enum(AUDIT_EVENTS));

export const ProjectRef = once(() => z.object({ project: Slug() }));
export const EnvironmentRef = once(() => z.object({ project: Slug(), environment: Slug() }));
export const LeaseRef = once(() =>
  z.object({
    id: z.string().regex(/^[a-z0-9]{16}$/, 'lease ids are 16 lowercase letters or digits'),
  }),
);
