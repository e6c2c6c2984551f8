import type { IssuedLease } from './routes';

/** Where the listener (and the socket) serve the one-file CLI, with no token. */
export const CLI_FILE_PATH = '/v1/cli/bella.mjs';

/** `https://HOST:PORT/v1/cli/bella.mjs` for a listener URL. */
export function cliFileUrl(server: string): string {
  return `${server.replace(/\/+$/, '')}${CLI_FILE_PATH}`;
}

/**
 * How a machine with only Node 20+ and curl installs bella from the listener: curl pins the
 * certificate's public key (`-k` only because the certificate is self-signed and no CA vouches for
 * it: the pin is the trust, and curl refuses any other key before it sends anything).
 */
export function cliInstallLine(server: string, pinnedPublicKey: string): string {
  // -g: an IPv6 address's brackets are not a curl glob. -f: an error answer is not saved as bella.mjs.
  const globOff = server.includes('[') ? ' -g' : '';
  return `curl -fsS${globOff} --pinnedpubkey '${pinnedPublicKey}' -k -o bella.mjs ${cliFileUrl(server)}`;
}

/**
 * What the holder of a new lease pastes on their own machine to reach this daemon's TLS listener
 * (printed by `bella leases issue` on stderr, shown by the desktop's token dialog): the one-line
 * install of the CLI file, one export a line, then `node bella.mjs run` for the lease's
 * environment (`bella run` where bella is installed). Null while no listener serves (the lease
 * carries no server then). Every value is of a fixed alphabet (URL, `sha256:` hex, base64 pin,
 * `bax-` token, slugs), so nothing needs shell quoting beyond the pin's single quotes.
 */
export function handoverLines(issued: IssuedLease): string[] | null {
  if (!issued.server || !issued.fingerprint) return null;
  const install = issued.pinnedPublicKey ? [cliInstallLine(issued.server, issued.pinnedPublicKey)] : [];
  const bella = install.length ? 'node bella.mjs' : 'bella';
  return [
    ...install,
    `export BELLA_SERVER=${issued.server}`,
    `export BELLA_SERVER_FINGERPRINT=${issued.fingerprint}`,
    `export BELLA_TOKEN=${issued.token}`,
    `${bella} run -p ${issued.lease.project} -e ${issued.lease.environment} -- your-command`,
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
