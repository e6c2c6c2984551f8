import type { Services } from '../../services';
import type { Handlers } from '../handlers';

/** The audit trail. */
export function auditRoutes({ audit }: Services) {
  return {
    listAudit: (args) => audit.list(args),
    verifyAudit: () => audit.verify(),
  } satisfies Partial<Handlers>;
}
