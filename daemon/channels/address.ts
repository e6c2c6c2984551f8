import dns from 'node:dns';
import net from 'node:net';
import { BellaError } from '../api/errors';
import { once } from '../api/schemas';
import type { Channel, ChannelKind } from './types';
import { validateChannelUrl } from './types';

// Where a channel may POST. A channel URL is typed by whoever holds the socket, but the daemon
// sends from the machine it runs on: without these rules a URL (or a DNS name changed after
// `add`) turns the daemon into a proxy towards the cloud metadata service, the LAN or itself (SSRF).

/** What one channel was allowed at `add`; every send is checked against the same rules. */
export interface UrlRules {
  kind: ChannelKind;
  /** Loopback and private ranges (`--allow-private`). */
  allowPrivate: boolean;
  /** Plain `http://` (`--insecure-http`). */
  insecureHttp: boolean;
  /** Slack/Discord: a host other than theirs (`--any-host`). */
  anyHost: boolean;
}

type Family = 'ipv4' | 'ipv6';
type Range = readonly [address: string, prefix: number, family: Family];

function blockList(ranges: readonly Range[]): net.BlockList {
  const list = new net.BlockList();
  for (const [address, prefix, family] of ranges) list.addSubnet(address, prefix, family);
  return list;
}

/** An IPv4 range also as NAT64 (64:ff9b::/96 embeds an IPv4 address that a gateway then reaches). */
const withNat64 = (ranges: readonly Range[]): Range[] =>
  ranges.flatMap((r): Range[] => (r[2] === 'ipv4' ? [r, [`64:ff9b::${r[0]}`, 96 + r[1], 'ipv6']] : [r]));

/**
 * Never sent to, whatever the flags (this list and {@link PRIVATE} are built at the first check:
 * a daemon without channels never builds them). IPv4-mapped forms (::ffff:169.254.169.254) match their IPv4
 * range (net.BlockList checks them so), NAT64 forms through {@link withNat64}.
 */
const NEVER = once((): ReadonlyArray<{ what: string; list: net.BlockList }> => [
  {
    // Cloud metadata services hand out the machine's credentials (AWS, GCP, Azure, Alibaba, ECS).
    what: 'a link-local or cloud metadata address',
    list: blockList(
      withNat64([
        ['169.254.0.0', 16, 'ipv4'],
        ['100.100.100.200', 32, 'ipv4'],
        ['fe80::', 10, 'ipv6'],
        ['fd00:ec2::254', 128, 'ipv6'],
      ]),
    ),
  },
  {
    // "This host" (0.0.0.0 reaches local services on Linux), multicast, broadcast and reserved.
    what: 'an unspecified, multicast, broadcast or reserved address',
    list: blockList(
      withNat64([
        ['0.0.0.0', 8, 'ipv4'],
        ['224.0.0.0', 4, 'ipv4'],
        ['240.0.0.0', 4, 'ipv4'],
        ['::', 128, 'ipv6'],
        ['ff00::', 8, 'ipv6'],
      ]),
    ),
  },
  {
    // 6to4 and Teredo relay to an IPv4 address bella would not have checked.
    what: 'an IPv6 tunnel address (6to4, Teredo)',
    list: blockList([
      ['2002::', 16, 'ipv6'],
      ['2001::', 32, 'ipv6'],
    ]),
  },
]);

/** Loopback and private ranges: the daemon's own machine and its network, with `--allow-private` only. */
const PRIVATE = once(() =>
  blockList(
    withNat64([
      ['127.0.0.0', 8, 'ipv4'],
      ['10.0.0.0', 8, 'ipv4'],
      ['172.16.0.0', 12, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'],
      ['100.64.0.0', 10, 'ipv4'],
      ['192.0.0.0', 24, 'ipv4'],
      ['198.18.0.0', 15, 'ipv4'],
      ['::1', 128, 'ipv6'],
      ['fc00::', 7, 'ipv6'],
      ['fec0::', 10, 'ipv6'],
    ]),
  ),
);

/**
 * Why bella will not send to `address` under `rules`, or null if it may. `host` is the URL's host
 * as the user typed it, for the message.
 */
export function addressRefusal(host: string, address: string, rules: Pick<UrlRules, 'allowPrivate'>): string | null {
  const version = net.isIP(address);
  if (version === 0) return `the URL's host ${host} gave ${address}, which is not an IP address`;
  const family: Family = version === 4 ? 'ipv4' : 'ipv6';
  const named = host === address ? `the URL's host ${host} is` : `the URL's host ${host} resolves to ${address},`;
  for (const { what, list } of NEVER()) {
    if (list.check(address, family)) return `${named} ${what}: bella never sends there`;
  }
  if (!rules.allowPrivate && PRIVATE().check(address, family)) {
    return `${named} a loopback or private address: pass --allow-private to allow it`;
  }
  return null;
}

const SLACK_HOSTS = ['hooks.slack.com'];
const DISCORD_HOSTS = ['discord.com', 'discordapp.com'];

/** The host of `url` as an address or name: IPv6 brackets removed. */
const hostOf = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Checks a channel URL against its rules without DNS: scheme, plain HTTP, the Slack/Discord host,
 * and the host if it is an IP address (the WHATWG parser has already turned `2852039166` or
 * `0xa9.254.169.254` into 169.254.169.254). Throws `invalid_argument` naming the flag that would
 * allow it; the message never repeats the URL's path (a Slack/Discord credential).
 */
export function checkChannelUrl(url: string, rules: UrlRules): URL {
  const parsed = validateChannelUrl(url);
  // Plain HTTP: anyone on the path reads the events and, for Slack/Discord, the URL's token.
  if (parsed.protocol === 'http:' && !rules.insecureHttp) {
    throw new BellaError(
      'invalid_argument',
      '--url is plain http:// (readable on the network): use https://, or pass --insecure-http to allow it',
    );
  }
  // A Slack/Discord channel only posts to Slack/Discord: a mistyped or pasted URL cannot point it elsewhere.
  if (!rules.anyHost && rules.kind === 'slack' && !SLACK_HOSTS.includes(parsed.hostname)) {
    throw new BellaError(
      'invalid_argument',
      `a slack channel posts only to https://hooks.slack.com/… (got ${parsed.host}): pass --any-host to allow another host`,
    );
  }
  if (
    !rules.anyHost &&
    rules.kind === 'discord' &&
    (!DISCORD_HOSTS.includes(parsed.hostname) || !parsed.pathname.startsWith('/api/webhooks/'))
  ) {
    throw new BellaError(
      'invalid_argument',
      `a discord channel posts only to https://discord.com/api/webhooks/… (got ${parsed.host}): pass --any-host to allow another host`,
    );
  }
  const host = hostOf(parsed);
  if (net.isIP(host)) {
    const refusal = addressRefusal(host, host, rules);
    if (refusal) throw new BellaError('invalid_argument', refusal);
  }
  return parsed;
}

/** `dns.lookup` with `all: true`, injectable for tests. */
export type DnsLookup = (
  hostname: string,
  options: dns.LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

const systemLookup: DnsLookup = (hostname, options, callback) => dns.lookup(hostname, options, callback);

/** The error a guarded lookup fails with: `code` names it, `message` is for people (no URL path). */
export const ADDRESS_REFUSED = 'EBELLA_ADDRESS_REFUSED';

/**
 * A `lookup` for `http.request` that checks EVERY address the name resolves to against `rules`
 * and hands back only checked addresses, so the socket connects to an address that was checked
 * (DNS rebinding: a name that resolved to a public address at `add` and to 169.254.169.254 now is
 * refused before any connection is made). TLS servername and Host stay the name: the request
 * options keep it, only the address comes from here.
 */
export function guardedLookup(
  rules: Pick<UrlRules, 'allowPrivate'>,
  resolve: DnsLookup = systemLookup,
): net.LookupFunction {
  const lookup = (
    hostname: string,
    options: dns.LookupOptions,
    callback: (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void,
  ): void => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      const refusal =
        addresses.length === 0
          ? `the URL's host ${hostname} resolves to no address`
          : addresses.map((a) => addressRefusal(hostname, a.address, rules)).find((r) => r !== null);
      if (refusal) {
        return callback(Object.assign(new Error(refusal), { code: ADDRESS_REFUSED }), '');
      }
      const first = addresses[0] as dns.LookupAddress;
      if (options.all) callback(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
  return lookup as net.LookupFunction;
}

/**
 * At `add`: {@link checkChannelUrl}, then, for a name, the addresses it resolves to now (so
 * `localhost` or a name of the LAN is refused at once, not at the first event). A name that does
 * not resolve is accepted: every send resolves and checks again.
 */
export async function checkChannelAddress(
  url: string,
  rules: UrlRules,
  resolve: DnsLookup = systemLookup,
): Promise<URL> {
  const parsed = checkChannelUrl(url, rules);
  const host = hostOf(parsed);
  if (net.isIP(host)) return parsed;
  const lookup = guardedLookup(rules, resolve);
  const refusal = await new Promise<string | null>((done) => {
    const timer = setTimeout(() => done(null), 5_000);
    lookup(host, { all: true }, (error) => {
      clearTimeout(timer);
      done((error as NodeJS.ErrnoException | null)?.code === ADDRESS_REFUSED ? (error as Error).message : null);
    });
  });
  if (refusal) throw new BellaError('invalid_argument', refusal);
  return parsed;
}

/** A stored channel's rules: what its `add` allowed (nothing, for a channel added before the rules). */
export function urlRules(channel: Channel): UrlRules {
  return {
    kind: channel.kind,
    allowPrivate: channel.allowPrivate === true,
    insecureHttp: channel.insecureHttp === true,
    anyHost: channel.anyHost === true,
  };
}
