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

/**
 * Says which `BELLA_SERVER` the daemon chose for a listener on every address (`0.0.0.0`, `::`):
 * `chosen` is the first routable address's URL (or the machine's name when it has none), `others`
 * the other routable addresses. Shown under the hand-over lines and by `bella listener status`.
 */
export function serverNote(chosen: string, others: string[], routable: boolean): string {
  const publicUrl = 'for a DNS name or a port forward: `bella listener enable --public-url URL`';
  if (!routable) {
    return `this machine has no routable address, so BELLA_SERVER is its name (${chosen}), which may not resolve elsewhere; ${publicUrl}`;
  }
  const also = others.length ? ` (it also has ${others.join(', ')})` : '';
  return `BELLA_SERVER is ${chosen}, this machine's first routable address${also}; ${publicUrl}`;
}
