import { describe, expect, it } from 'vitest';
import { BellaError } from '../../api/errors';
import { AllowList, FailureLimiter, normaliseAddress, sourceKey } from './admission';

function fakeClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms), set: (ms: number) => (t = ms) };
}

describe('FailureLimiter', () => {
  it('allows 10 failures per address, then refuses with a Retry-After until the bucket refills', () => {
    const clock = fakeClock();
    const limiter = new FailureLimiter({ maxFailures: 10, windowMs: 10_000, now: clock.now });
    for (let i = 0; i < 9; i++) expect(limiter.recordFailure('203.0.113.5')).toEqual({ allowed: true });
    expect(limiter.check('203.0.113.5')).toEqual({ allowed: true });
    expect(limiter.recordFailure('203.0.113.5')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.check('203.0.113.5')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    // Another address is not affected.
    expect(limiter.check('203.0.113.6')).toEqual({ allowed: true });
    clock.advance(999);
    expect(limiter.check('203.0.113.5').allowed).toBe(false);
    clock.advance(1);
    expect(limiter.check('203.0.113.5')).toEqual({ allowed: true });
    // One token back means one more failure, then refused again.
    expect(limiter.recordFailure('203.0.113.5').allowed).toBe(false);
    clock.advance(10_000);
    for (let i = 0; i < 9; i++) expect(limiter.recordFailure('203.0.113.5').allowed).toBe(true);
  });

  it('holds the lasting rate at maxFailures per window under a steady flood', () => {
    const clock = fakeClock();
    const limiter = new FailureLimiter({ maxFailures: 10, windowMs: 10_000, now: clock.now });
    let counted = 0;
    for (let ms = 0; ms < 60_000; ms += 50) {
      clock.set(1_000_000 + ms);
      if (limiter.check('198.51.100.1').allowed) {
        limiter.recordFailure('198.51.100.1');
        counted++;
      }
    }
    // The burst of 10, then 1 per second for 60 s.
    expect(counted).toBeGreaterThanOrEqual(69);
    expect(counted).toBeLessThanOrEqual(71);
  });

  it('gives a longer Retry-After for a slower refill, and never refills on a clock that steps back', () => {
    const clock = fakeClock();
    const limiter = new FailureLimiter({ maxFailures: 2, windowMs: 60_000, now: clock.now });
    limiter.recordFailure('192.0.2.1');
    expect(limiter.recordFailure('192.0.2.1')).toEqual({ allowed: false, retryAfterSeconds: 30 });
    clock.advance(-3_600_000);
    expect(limiter.check('192.0.2.1')).toEqual({ allowed: false, retryAfterSeconds: 30 });
    clock.advance(3_600_000 + 30_000);
    expect(limiter.check('192.0.2.1').allowed).toBe(true);
  });

  it('tracks a bounded number of sources, forgetting the least recently seen', () => {
    const clock = fakeClock();
    const limiter = new FailureLimiter({ maxFailures: 1, windowMs: 60_000, maxTracked: 100, now: clock.now });
    limiter.recordFailure('10.0.0.1');
    for (let i = 0; i < 5000; i++) {
      limiter.recordFailure(`10.1.${i >> 8}.${i & 0xff}`);
      if (i % 50 === 0) limiter.recordFailure('10.0.0.1'); // seen again: stays tracked
      expect(limiter.size).toBeLessThanOrEqual(100);
    }
    expect(limiter.size).toBe(100);
    expect(limiter.check('10.0.0.1').allowed).toBe(false);
    expect(limiter.check('10.1.0.0').allowed).toBe(true); // evicted long ago
    expect(limiter.check('10.1.19.135').allowed).toBe(false); // the newest
  });

  it('limits an IPv6 host by its /64 and an IPv4-mapped peer as its IPv4 address', () => {
    const limiter = new FailureLimiter({ maxFailures: 2, now: fakeClock().now });
    limiter.recordFailure('2001:db8:1:2::1');
    limiter.recordFailure('2001:db8:1:2:ffff::9');
    expect(limiter.check('2001:db8:1:2:abcd::1').allowed).toBe(false);
    expect(limiter.check('2001:db8:1:3::1').allowed).toBe(true);
    limiter.recordFailure('::ffff:192.0.2.9');
    limiter.recordFailure('192.0.2.9');
    expect(limiter.check('::ffff:c000:209').allowed).toBe(false);
    expect(() => new FailureLimiter({ maxFailures: 0 })).toThrow(RangeError);
  });
});

describe('addresses', () => {
  it('normalises mapped, bracketed and zoned addresses', () => {
    expect(normaliseAddress('::ffff:10.1.2.3')).toEqual({ family: 'ipv4', address: '10.1.2.3' });
    expect(normaliseAddress('::FFFF:a01:203')).toEqual({ family: 'ipv4', address: '10.1.2.3' });
    expect(normaliseAddress('[fd00::1]')).toMatchObject({
      family: 'ipv6',
      address: 'fd00::1',
      groups: [0xfd00, 0, 0, 0, 0, 0, 0, 1],
    });
    expect(normaliseAddress('fe80::1%eth0')).toMatchObject({ family: 'ipv6', address: 'fe80::1' });
    expect(normaliseAddress('1::')?.groups).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(normaliseAddress('1:2:3:4:5:6:7:8')?.groups).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(normaliseAddress('not-an-ip')).toBeNull();
    expect(normaliseAddress(undefined)).toBeNull();
    expect(sourceKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('::ffff:127.0.0.1')).toBe('127.0.0.1');
  });
});

describe('AllowList', () => {
  it('matches IPv4 and IPv6 CIDRs and single addresses, IPv4-mapped peers against IPv4 entries', () => {
    const allow = AllowList.parse('10.0.0.0/8, 192.168.1.7,fd00::/8,[2001:db8::5]')!;
    expect(allow.entries).toEqual(['10.0.0.0/8', '192.168.1.7', 'fd00::/8', '2001:db8::5']);
    for (const yes of [
      '10.1.2.3',
      '::ffff:10.1.2.3',
      '::ffff:a01:203',
      '192.168.1.7',
      '::ffff:192.168.1.7',
      'fd12::1',
      '2001:db8::5',
    ]) {
      expect(allow.allows(yes), yes).toBe(true);
    }
    for (const no of [
      '11.0.0.1',
      '::ffff:11.0.0.1',
      '192.168.1.8',
      'fe00::1',
      '2001:db8::6',
      '::1',
      undefined,
      'garbage',
    ]) {
      expect(allow.allows(no), String(no)).toBe(false);
    }
    expect(AllowList.parse('::ffff:10.0.0.0/104')!.allows('10.9.9.9')).toBe(true);
    expect(AllowList.parse(['127.0.0.1', '::1'])!.allows('::1')).toBe(true);
  });

  it('is null when empty and refuses entries that are not addresses or CIDRs', () => {
    expect(AllowList.parse(undefined)).toBeNull();
    expect(AllowList.parse(' , ')).toBeNull();
    for (const bad of [
      '10.0.0.0/33',
      'fd00::/129',
      'example.com',
      '10.0.0.0/8/8',
      '10.0.0.0/',
      '10.0.0.0/x',
      '::ffff:10.0.0.0/8',
    ]) {
      let err: unknown;
      try {
        AllowList.parse(`192.168.0.0/16,${bad}`);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(BellaError);
      expect((err as BellaError).code).toBe('invalid_argument');
      expect((err as BellaError).message).toBe(
        `--allow ${bad} is not an IP address or CIDR range: give e.g. --allow 10.0.0.0/8,192.168.1.7,fd00::/8 (or --allow any alone for every address)`,
      );
    }
  });

  it('takes `any` alone as every address (the way to clear the list)', () => {
    expect(AllowList.parse('any')).toBeNull();
    expect(AllowList.parse(['ANY'])).toBeNull();
    expect(() => AllowList.parse('10.0.0.0/8,any')).toThrow(/--allow any is not an IP address/);
  });
});
