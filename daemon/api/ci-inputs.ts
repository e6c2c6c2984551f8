import * as z from 'zod';
import { DatabaseRef } from './database-inputs';
import { EnvironmentRef, once, ScopeEntry, Seconds } from './schemas';

/** A trust's name: what `ci trust remove` and the lease's actor (`ci:<name>`) use. */
export const TrustName = once(() =>
  z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9._-]{0,62}$/,
      'trust names are 1–63 lowercase letters, digits, dots, dashes or underscores',
    ),
);

/** A claim rule: a claim name and a `*`-glob its (string) value must match. */
const ClaimRuleInput = () =>
  z.object({
    claim: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/, 'claim names are letters, digits, _ . : -, e.g. repository'),
    pattern: z.string().min(1, 'give a value or *-glob after KEY=').max(512),
  });

/** An https URL (an OIDC issuer): the JWKS is fetched from it, so never plain http. */
const HttpsUrl = () =>
  z
    .string()
    .max(2048)
    .url('give the issuer as a URL, e.g. https://token.actions.githubusercontent.com')
    // Defends the signature check: keys fetched over plain http could be swapped on the way.
    .refine((u) => u.startsWith('https://'), 'the issuer must be an https:// URL');

/** The input schemas of the CI trust operations (operations.ts), each built at its first use. */
export const ciInputs = {
  listCiTrusts: () => z.object({}),
  addCiTrust: () =>
    EnvironmentRef().extend({
      name: TrustName(),
      scope: z.array(ScopeEntry()).min(1, 'name at least one key or glob').max(200),
      ttlSeconds: Seconds().optional(),
      issuer: HttpsUrl(),
      audience: z.string().trim().min(1).max(2048).optional(),
      claims: z.array(ClaimRuleInput()).min(1, 'give at least one --claim KEY=GLOB (or --github/--gitlab)').max(32),
      issuerCaPem: z
        .string()
        .max(64 * 1024)
        .optional(),
      db: DatabaseRef().optional(),
    }),
  removeCiTrust: () => z.object({ name: TrustName() }),
  // Defends the daemon: a JWT is a few KiB at most; a larger body is refused before parsing it.
  ciLogin: () =>
    z.object({
      idToken: z
        .string()
        .min(1, 'send the job’s OIDC JWT as idToken')
        .max(16 * 1024),
      /** Only this trust (`ci login --trust`); otherwise the first by name whose rules hold. */
      trust: TrustName().optional(),
    }),
};
