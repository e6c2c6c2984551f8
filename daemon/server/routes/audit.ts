import type { Services } from '../../services';
import type { Handlers } from '../handler-types';

/** The audit trail. */
export function auditRoutes({ audit }: Services) {
  return {
    listAudit: (args) => audit.list(args),
    verifyAudit: () => audit.verify(),
  } satisfies Partial<Handlers>;
}
