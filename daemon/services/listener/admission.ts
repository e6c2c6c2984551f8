import net from 'node:net';
import { BellaError } from '../../api/errors';

/** `--allow any`: every source address (clears the list). */
export const ANY = 'any';

/** Settings of a {@link FailureLimiter}. */
export interface FailureLimiterOptions {
  /** Failures a source may make in a burst (the bucket's size); 10 by default. */
  maxFailures?: number;
  /** Time in which a drained bucket fills up again, so the lasting rate is maxFailures per window; 10 s by default. */
  windowMs?: number;
  /** Sources tracked at once; past it the least recently seen is forgotten. 10,000 by default. */
  maxTracked?: number;
  /** The clock, in milliseconds. */
  now?: () => number;
}

/** Whether a source may make a token attempt now, and if not, when to come back. */
export type LimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Limits **failed** token attempts per source (a token bucket per address; IPv6 per /64). The
 * listener checks every token and calls {@link recordFailure} for each unknown, wrong, expired
 * or revoked one; when it says no, that refusal is answered 429 with `Retry-After` instead of
 * 401. A valid token is served regardless, so a busy shared address (a NAT, a CI pool) never
 * locks its holders out. Successes cost nothing and restore nothing, so a holder of one valid
 * token cannot use it to keep guessing others. Memory is bounded by `maxTracked`.
 */
export class FailureLimiter {
  private readonly capacity: number;
  private readonly windowMs: number;
  private readonly maxTracked: number;
  private readonly now: () => number;
  // Insertion order is recency order: every touch re-inserts, eviction takes the first key.
  private readonly buckets = new Map<string, Bucket>();

  constructor(options: FailureLimiterOptions = {}) {
    this.capacity = options.maxFailures ?? 10;
    this.windowMs = options.windowMs ?? 10_000;
    this.maxTracked = options.maxTracked ?? 10_000;
    this.now = options.now ?? Date.now;
    if (!(this.capacity >= 1 && this.windowMs > 0 && this.maxTracked >= 1)) {
      throw new RangeError('FailureLimiter needs maxFailures >= 1, windowMs > 0 and maxTracked >= 1');
    }
  }

  /** Whether `address` may make a token attempt now. Does not count anything. */
  check(address: string): LimitDecision {
    const bucket = this.buckets.get(sourceKey(address));
    return bucket ? this.decide(this.refill(bucket)) : { allowed: true };
  }

  /** Counts one failed attempt from `address`; answers whether the next attempt is allowed. */
  recordFailure(address: string): LimitDecision {
    const key = sourceKey(address);
    const known = this.buckets.get(key);
    const bucket = known ? this.refill(known) : { tokens: this.capacity, at: this.now() };
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    this.buckets.delete(key);
    // Defends against memory exhaustion by a flood of distinct source addresses.
    while (this.buckets.size >= this.maxTracked) this.buckets.delete(this.buckets.keys().next().value!);
    this.buckets.set(key, bucket);
    return this.decide(bucket);
  }

  /** Sources tracked now. */
  get size(): number {
    return this.buckets.size;
  }

  private refill(bucket: Bucket): Bucket {
    const now = this.now();
    // A clock that steps back never refills, and never drains either.
    const elapsed = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(this.capacity, bucket.tokens + (elapsed * this.capacity) / this.windowMs);
    bucket.at = Math.max(bucket.at, now);
    return bucket;
  }

  private decide(bucket: Bucket): LimitDecision {
    if (bucket.tokens >= 1) return { allowed: true };
    const waitMs = ((1 - bucket.tokens) * this.windowMs) / this.capacity;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }
}

/** An address reduced to what can be compared: IPv4-mapped IPv6 becomes IPv4; zone ids are dropped. */
export interface NormalAddress {
  family: 'ipv4' | 'ipv6';
  address: string;
  /** The eight 16-bit groups of an IPv6 address. */
  groups?: number[];
}

/** Normalises a socket's remote address; null when it is not an IP address. */
export function normaliseAddress(address: string | undefined): NormalAddress | null {
  if (!address) return null;
  const bare = address.replace(/^\[(.*)\]$/, '$1').split('%')[0]!;
  if (net.isIPv4(bare)) return { family: 'ipv4', address: bare };
  const groups = ipv6Groups(bare);
  if (!groups) return null;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi, lo] = [groups[6]!, groups[7]!];
    return { family: 'ipv4', address: [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.') };
  }
  return { family: 'ipv6', address: bare.toLowerCase(), groups };
}

/** A source address as the audit trail shows it: normalised, or as given, or `unknown`. */
export function sourceName(address: string | undefined): string {
  return normaliseAddress(address)?.address ?? address ?? 'unknown';
}

/**
 * The key a source is limited under: an IPv4 address, or an IPv6 /64 (one host usually owns
 * a whole /64, so per-address limits would let it rotate through 2^64 addresses).
 */
export function sourceKey(address: string | undefined): string {
  const a = normaliseAddress(address);
  if (!a) return `other:${address ?? ''}`;
  if (a.family === 'ipv4') return a.address;
  return `${a
    .groups!.slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

function ipv6Groups(address: string): number[] | null {
  if (!net.isIPv6(address)) return null;
  let text = address;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((g) => parseInt(g, 16));
}

/**
 * The optional `--allow CIDR,…` list of the listener: requests from source addresses outside it
 * are answered 403 (after TLS, before anything else is done for them). IPv4 and IPv6 entries; an
 * IPv4-mapped IPv6 peer (`::ffff:10.1.2.3`) is matched against the IPv4 entries.
 */
export class AllowList {
  private readonly list = new net.BlockList();

  /** The entries as given (normalised), for `bella listener status`. */
  readonly entries: string[];

  private constructor(entries: string[]) {
    this.entries = entries;
  }

  /**
   * Parses `10.0.0.0/8,192.168.1.7,fd00::/8` (a string or a list of them); null when empty or
   * `any`, which means every address is allowed. Throws `invalid_argument` naming the bad entry.
   */
  static parse(spec: string | string[] | undefined): AllowList | null {
    const raw = (Array.isArray(spec) ? spec : [spec ?? ''])
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter(Boolean);
    if (raw.length === 0 || (raw.length === 1 && raw[0]!.toLowerCase() === ANY)) return null;
    const entries: string[] = [];
    const parsed = raw.map((entry) => {
      const [addressPart, prefixPart, extra] = entry.split('/');
      const address = normaliseAddress(addressPart);
      const prefixText = prefixPart ?? '';
      let prefix = prefixPart === undefined ? undefined : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
      // A mapped IPv6 subnet (::ffff:10.0.0.0/104) is the IPv4 subnet it stands for.
      if (address?.family === 'ipv4' && net.isIPv6(addressPart!.replace(/^\[(.*)\]$/, '$1')) && prefix !== undefined) {
        prefix -= 96;
      }
      const max = address?.family === 'ipv4' ? 32 : 128;
      if (!address || extra !== undefined || (prefix !== undefined && !(prefix >= 0 && prefix <= max))) {
        throw new BellaError(
          'invalid_argument',
          `--allow ${entry} is not an IP address or CIDR range: give e.g. --allow 10.0.0.0/8,192.168.1.7,fd00::/8 (or --allow ${ANY} alone for every address)`,
        );
      }
      entries.push(prefix === undefined ? address.address : `${address.address}/${prefix}`);
      return { address, prefix };
    });
    const allow = new AllowList(entries);
    for (const { address, prefix } of parsed) {
      if (prefix === undefined) allow.list.addAddress(address.address, address.family);
      else allow.list.addSubnet(address.address, prefix, address.family);
    }
    return allow;
  }

  /** True when `address` (a socket's `remoteAddress`) is inside the list; an unparseable address is not. */
  allows(address: string | undefined): boolean {
    const a = normaliseAddress(address);
    return a !== null && this.list.check(a.address, a.family);
  }
}
