import net from 'node:net';
import os from 'node:os';
import { BellaError } from '../../api';
import { serverNote } from '../../api/handover';
import { httpsOrigin } from '../../api/origin';

/** `--public-url auto`: holders get the address bella chooses (clears a public URL). */
export const AUTO = 'auto';

/** The `BELLA_SERVER` values a holder can use, best first, and why the first was chosen. */
export interface HolderUrls {
  urls: string[];
  /** Which address was chosen and what else there is; null when the owner named it. */
  note: string | null;
}

/** Where the listener is and what the machine has, to choose the holders' URL from. */
export interface HolderUrlInput {
  /** `HOST:PORT` the listener is configured on. */
  address: string;
  /** The port actually bound (port 0 in the settings means any free one). */
  boundPort?: number | undefined;
  /** `--public-url`, a DNS name or port forward the owner gave. */
  publicUrl?: string | undefined;
  /** `os.networkInterfaces()` (read at most once a second); injected by tests. */
  interfaces?: NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  /** `os.hostname()`; injected by tests. */
  hostname?: string;
}

/** How long the machine's addresses and name are reused: the hand-over asks for them at every issue. */
const MACHINE_TTL_MS = 1000;
let machine: { at: number; interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>; hostname: string } | null = null;

/** `os.networkInterfaces()` and `os.hostname()`, read again once a second old. */
function machineNow(): { interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>; hostname: string } {
  const now = performance.now();
  if (!machine || now - machine.at > MACHINE_TTL_MS) {
    machine = { at: now, interfaces: os.networkInterfaces(), hostname: os.hostname() };
  }
  return machine;
}

/** `HOST:PORT` (IPv6 in brackets) into its parts. */
export function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(at + 1)) };
}

/**
 * The URLs a holder on another machine can use. The owner's `--public-url` comes first; then the
 * listening address itself, or for a wildcard (`0.0.0.0`, `::`) the machine's routable addresses
 * (not loopback, not link-local: both resolve to something else on the holder's machine), IPv4
 * first. With none, the machine's name is all there is, and the note says to give `--public-url`.
 */
export function holderUrls(input: HolderUrlInput): HolderUrls {
  const { host, port: configured } = splitAddress(input.address);
  const port = input.boundPort ?? configured;
  const url = (h: string) => `https://${h.includes(':') ? `[${h}]` : h}:${port}`;
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  let hosts = [host];
  let note: string | null = null;
  if (wildcard) {
    const routable = routableAddresses(input.interfaces ?? machineNow().interfaces, host === '0.0.0.0');
    const name = (input.hostname ?? machineNow().hostname).toLowerCase();
    hosts = routable.length ? routable : [name];
    note = serverNote(url(hosts[0]!), routable.slice(1), routable.length > 0);
  }
  const urls = hosts.map(url);
  if (!input.publicUrl) return { urls, note };
  return { urls: [input.publicUrl, ...urls.filter((u) => u !== input.publicUrl)], note: null };
}

/** The machine's addresses another machine can reach: IPv4 first, no loopback, no link-local. */
export function routableAddresses(interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>, ipv4Only: boolean): string[] {
  const all = Object.values(interfaces).flatMap((list) => list ?? []);
  const usable = all.filter((a) => !a.internal && !isLoopback(a.address) && !isLinkLocal(a.address));
  const v4 = usable.filter((a) => net.isIPv4(a.address)).map((a) => a.address);
  const v6 = ipv4Only ? [] : usable.filter((a) => net.isIPv6(a.address)).map((a) => a.address);
  return [...new Set([...v4, ...v6])];
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

/** 169.254.0.0/16 and fe80::/10: they need a zone id on the holder's side, which a URL cannot carry. */
function isLinkLocal(address: string): boolean {
  return address.startsWith('169.254.') || /^fe[89ab][0-9a-f]:/i.test(address);
}

/**
 * Checks `--public-url`: `https://HOST[:PORT]` and nothing more, as a holder's `BELLA_SERVER`
 * must be; `auto` clears it (undefined). Answers the normalised origin.
 */
export function parsePublicUrl(text: string): string | undefined {
  if (text.trim().toLowerCase() === AUTO) return undefined;
  const origin = httpsOrigin(text);
  if (!origin) {
    throw new BellaError(
      'invalid_argument',
      `--public-url ${text} is not https://HOST[:PORT]: give the DNS name or port forward holders reach this listener at, e.g. --public-url https://bella.example.com:7443 (or --public-url ${AUTO})`,
    );
  }
  return origin;
}
