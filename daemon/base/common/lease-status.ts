/**
 * The status a lease has at `now` (epoch ms): an active lease past its expiry is expired, whether or
 * not a timer has marked it so (a token is refused from the exact expiry instant). The daemon's
 * leases carry `expiresAt` as epoch ms, the contract's as ISO 8601: both are read.
 */
export function effectiveStatus<S extends string>(
  lease: { status: S; expiresAt: number | string },
  now: number,
): S | 'expired' {
  const expiresAt = typeof lease.expiresAt === 'number' ? lease.expiresAt : Date.parse(lease.expiresAt);
  return lease.status === 'active' && now >= expiresAt ? 'expired' : lease.status;
}
