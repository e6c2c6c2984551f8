import * as z from 'zod';
import { EnvironmentRef, Flag, Reason, ScopeEntry, Seconds } from './schemas';
import { DatabaseRef } from './database-inputs';
import { REQUEST_ID, REQUEST_STATUSES } from './requests';

const RequestRef = () => z.object({ id: z.string().regex(REQUEST_ID, 'request ids look like req_…') });

/** The input schemas of the access-request operations (operations.ts), each built at its first use. */
export const requestInputs = {
  createAccessRequest: () =>
    EnvironmentRef()
      .extend({
        scope: z.array(ScopeEntry()).max(200),
        ttlSeconds: Seconds().optional(),
        reason: Reason(),
        /** How long approvers have to answer; 1 h by default, at most 7 days. */
        windowSeconds: Seconds()
          .refine((s) => s <= 7 * 86_400, 'a request waits at most 7d')
          .optional(),
        breakGlass: Flag().optional(),
        /** `DB:ROLE`: the lease gets a login role of its own, read as `<DB>_URL` (as `leases issue --db`). */
        db: DatabaseRef().optional(),
      })
      .superRefine((a, ctx) => {
        if (a.scope.length === 0 && a.db === undefined)
          ctx.addIssue({ code: 'custom', path: ['scope'], message: 'name at least one key or glob (or --db DB:ROLE)' });
      }),
  listAccessRequests: () =>
    z.object({
      status: z.enum(REQUEST_STATUSES).optional(),
      unreviewed: Flag().optional(),
    }),
  getAccessRequest: () => RequestRef(),
  approveAccessRequest: () =>
    RequestRef().extend({
      ttlSeconds: Seconds().optional(),
      reason: z.string().trim().max(1000).optional(),
    }),
  denyAccessRequest: () => RequestRef().extend({ reason: Reason() }),
  fetchRequestToken: () => RequestRef(),
  reviewAccessRequest: () => RequestRef().extend({ note: z.string().trim().max(1000).optional() }),
};
