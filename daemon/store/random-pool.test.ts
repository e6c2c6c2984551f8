import { describe, expect, it } from 'vitest';
import { randomId, tokenSecret } from './crypto';
import { pooledRandomBytes } from './random-pool';

describe('pooledRandomBytes: ids and token secrets from one CSPRNG draw shared by many', () => {
  it('hands out each byte once, across refills, in fresh buffers of the size asked', () => {
    const seen = new Set<string>();
    const handed: Buffer[] = [];
    // 5,000 × 32 bytes: about 40 refills of the pool.
    for (let i = 0; i < 5000; i++) {
      const b = pooledRandomBytes(32);
      expect(b.length).toBe(32);
      seen.add(b.toString('hex'));
      handed.push(b);
    }
    expect(seen.size).toBe(5000);
    // Later draws do not change what was handed out (copies, not views of the pool).
    const first = Buffer.from(handed[0]!);
    for (let i = 0; i < 500; i++) pooledRandomBytes(32);
    expect(handed[0]!.equals(first)).toBe(true);
    expect(pooledRandomBytes(3000).length).toBe(3000);
  });

  it('its bytes look uniform: every value appears, none far from its share', () => {
    const counts = new Array<number>(256).fill(0);
    const n = 256 * 400;
    for (let i = 0; i < n / 64; i++) for (const b of pooledRandomBytes(64)) counts[b]!++;
    // Expected 400 each; a deviation of 200 is more than 10 standard deviations away.
    for (const c of counts) expect(Math.abs(c - 400)).toBeLessThan(200);
  });

  it('lease ids and token secrets keep their shape and do not repeat', () => {
    const ids = new Set(Array.from({ length: 2000 }, () => randomId(16)));
    const secrets = new Set(Array.from({ length: 2000 }, () => tokenSecret()));
    expect(ids.size).toBe(2000);
    expect(secrets.size).toBe(2000);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]{16}$/);
    for (const s of secrets) expect(s).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('lease ids use every one of their 36 characters about equally', () => {
    const counts = new Map<string, number>();
    // 36 × 400 characters expected 400 times each; a deviation of 200 is about 10 standard deviations.
    for (let i = 0; i < 900; i++) for (const c of randomId(16)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(36);
    for (const c of counts.values()) expect(Math.abs(c - 400)).toBeLessThan(200);
    // Lengths other than 16 keep theirs too (a short draw is completed).
    for (const n of [1, 5, 40, 200]) expect(randomId(n)).toMatch(new RegExp(`^[a-z0-9]{${n}}$`));
  });
});
