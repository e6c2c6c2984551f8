import type { Services } from '../../services';
import type { Handlers } from '../handlers';

/** Leases. */
export function leaseRoutes({ leases }: Services) {
  return {
    listLeases: (args) => leases.list(args),
    issueLease: (args) => leases.issue(args),
    getLease: (args) => leases.get(args),
    renewLease: (args) => leases.renew(args),
    revokeLease: (args) => leases.revoke(args),
    expireAll: (args) => leases.expireAll(args),
  } satisfies Partial<Handlers>;
}
