import type { IssuedLease } from '../../api';
import type { Services } from '../../services';
import type { Handlers } from '../handler-types';

/** Leases; an issued lease says where its holder reaches the listener, when one serves. */
export function leaseRoutes(
  { leases }: Services,
  handover: () => Pick<IssuedLease, 'server' | 'fingerprint' | 'serverNote' | 'pinnedPublicKey'>,
) {
  return {
    listLeases: (args) => leases.list(args),
    // The service's answer is this request's own object: the handover joins it, no copy is made.
    issueLease: async (args) => Object.assign(await leases.issue(args), handover()),
    getLease: (args) => leases.get(args),
    renewLease: (args) => leases.renew(args),
    revokeLease: (args) => leases.revoke(args),
    expireAll: (args) => leases.expireAll(args),
  } satisfies Partial<Handlers>;
}
