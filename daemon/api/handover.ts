import type { IssuedLease } from './routes';

/**
 * What the holder of a new lease pastes on their own machine to reach this daemon's TLS listener
 * (printed by `bella leases issue` on stderr, shown by the desktop's token dialog): one export a
 * line, then `bella run` for the lease's environment. Null while no listener
 * serves (the lease carries no server then). Every value is of a fixed alphabet (URL, `sha256:` hex,
 * `bax-` token, slugs), so nothing needs shell quoting.
 */
export function handoverLines(issued: IssuedLease): string[] | null {
  if (!issued.server || !issued.fingerprint) return null;
  return [
    `export BELLA_SERVER=${issued.server}`,
    `export BELLA_SERVER_FINGERPRINT=${issued.fingerprint}`,
    `export BELLA_TOKEN=${issued.token}`,
    `bella run -p ${issued.lease.project} -e ${issued.lease.environment} -- your-command`,
  ];
}
