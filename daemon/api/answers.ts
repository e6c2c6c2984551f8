import * as z from 'zod';
import type { OperationOutput } from './routes';
import { LeaseRef, LeaseStatusSchema, ScopeEntry, SecretKey, SecretValue, Slug } from './schemas';

/*
 * The token plane's answers, as a holder checks them. A server's answer is untrusted input on
 * the holder's machine (a compromised or impersonated server): every field is validated before
 * anything of it is used, and a key name that is not a secret key (`X=1;touch f`) refuses the
 * whole answer.
 */

/** An ISO time as the daemon writes it. */
const Time = z.string().refine((t) => !Number.isNaN(Date.parse(t)), 'not an ISO time');

/** The holder's own lease (`lookupToken`, `revokeToken`). */
export const HolderLeaseSchema = z.object({
  id: LeaseRef().shape.id,
  project: Slug(),
  environment: Slug(),
  scope: z.array(ScopeEntry()).min(1),
  issuedAt: Time,
  expiresAt: Time,
  status: LeaseStatusSchema(),
  uses: z.number().int().nonnegative(),
  lastUsedAt: Time.nullable(),
});

/** Every answer of the token plane, by operation. */
export const tokenAnswers = {
  lookupToken: z.object({ lease: HolderLeaseSchema }),
  revokeToken: z.object({ lease: HolderLeaseSchema, alreadyEnded: z.boolean() }),
  readSecrets: z.object({
    project: Slug(),
    environment: Slug(),
    leaseId: LeaseRef().shape.id,
    expiresAt: Time,
    secrets: z.record(SecretKey(), SecretValue()),
  }),
  ciLogin: z.object({
    // The shape of base/common/token-format.ts's TOKEN_PATTERN (the contract imports nothing of ours).
    token: z.string().regex(/^bax-[a-z0-9]{16}-[A-Za-z0-9_-]{43}$/, 'not a bax- token'),
    leaseId: LeaseRef().shape.id,
    project: Slug(),
    environment: Slug(),
    scope: z.array(ScopeEntry()).min(1),
    expiresAt: Time,
    trust: z.string().max(63),
  }),
} satisfies { [K in 'lookupToken' | 'revokeToken' | 'readSecrets' | 'ciLogin']: z.ZodType<OperationOutput<K>> };

/** An operation of the token plane. */
export type TokenOperation = keyof typeof tokenAnswers;
