import { z } from 'zod';
import { EnvironmentRef, Flag, Reason, ScopeEntry, Seconds } from './schemas';
import { REQUEST_ID, REQUEST_STATUSES } from './requests';

const RequestRef = z.object({ id: z.string().regex(REQUEST_ID, 'request ids look like req_…') });

/** The input schemas of the access-request operations (spread into operations.ts's table). */
export const requestInputs = {
  createAccessRequest: EnvironmentRef.extend({
    scope: z.array(ScopeEntry).min(1, 'name at least one key or glob').max(200),
    ttlSeconds: Seconds.optional(),
    reason: Reason,
    /** How long approvers have to answer; 1 h by default, at most 7 days. */
    windowSeconds: Seconds.refine((s) => s <= 7 * 86_400, 'a request waits at most 7d').optional(),
    breakGlass: Flag.optional(),
  }),
  listAccessRequests: z.object({
    status: z.enum(REQUEST_STATUSES).optional(),
    unreviewed: Flag.optional(),
  }),
  getAccessRequest: RequestRef,
  approveAccessRequest: RequestRef.extend({
    ttlSeconds: Seconds.optional(),
    reason: z.string().trim().max(1000).optional(),
  }),
  denyAccessRequest: RequestRef.extend({ reason: Reason }),
  fetchRequestToken: RequestRef,
  reviewAccessRequest: RequestRef.extend({ note: z.string().trim().max(1000).optional() }),
};
