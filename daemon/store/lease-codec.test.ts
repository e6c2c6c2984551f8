import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeB64, hashBytes, hashText, printableIdHash, wholeNumbers } from './lease-codec';

describe('lease codec', () => {
  it('decodes 43-character base64url hashes as Buffer does, and refuses what is not one', () => {
    for (let i = 0; i < 500; i++) {
      const bytes = randomBytes(32);
      const text = Buffer.from(bytes.toString('base64url'), 'latin1');
      const out = Buffer.alloc(34);
      expect(decodeB64(text, 0, out, 1)).toBe(true);
      expect(out.subarray(1, 33)).toEqual(bytes);
      // A character outside the alphabet anywhere, or a last character with its 2 spare bits set.
      const at = i % 43;
      const broken = Buffer.from(text);
      broken[at] = [0x2b, 0x2f, 0x3d, 0xc3, 0x00][i % 5]!;
      expect(decodeB64(broken, 0, out, 0)).toBe(false);
    }
    const canonical = Buffer.from(Buffer.alloc(32).toString('base64url'), 'latin1');
    const spare = Buffer.from(canonical);
    spare[42] = 'B'.charCodeAt(0);
    expect(decodeB64(spare, 0, Buffer.alloc(32), 0)).toBe(false);
  });

  it('hashes an id and checks its bytes printable in one pass, a word at a time', () => {
    const id = Buffer.from('abcdefgh01234567', 'latin1');
    expect(printableIdHash(id, 0)).toBe(hashBytes(id, 0));
    // Every byte value at every position: refused exactly when outside 0x21..0x7e.
    for (let at = 0; at < 16; at++) {
      for (let c = 0; c < 256; c++) {
        const changed = Buffer.from(id);
        changed[at] = c;
        expect(printableIdHash(changed, 0)).toBe(c > 0x20 && c < 0x7f ? hashBytes(changed, 0) : -1);
      }
    }
  });

  it('hashes an id the same as text and as bytes, and spreads ids over the low bits', () => {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
    const buckets = new Uint32Array(1024);
    for (let i = 0; i < 20_000; i++) {
      const bytes = randomBytes(16);
      const id = Array.from(bytes, (x) => alphabet[x % 36]).join('');
      const h = hashText(id);
      expect(hashBytes(Buffer.from(id, 'latin1'), 0)).toBe(h);
      buckets[h & 1023]!++;
    }
    // About 19.5 a bucket: none empty, none far over.
    expect(Math.min(...buckets)).toBeGreaterThan(0);
    expect(Math.max(...buckets)).toBeLessThan(60);
    // Other text hashes consistently with itself.
    expect(hashText('short')).toBe(hashText('short'));
    expect(hashText('short')).not.toBe(hashText('shorT'));
  });

  it('accepts whole numbers in range only', () => {
    const ok = Float64Array.from([0, 1, 2 ** 53 - 1, 1_700_000_000_000]);
    expect(wholeNumbers(ok, 0, ok.length, 0)).toBe(true);
    for (const v of [-1, 0.5, Number.NaN, Infinity, -Infinity, 2 ** 53]) {
      expect(wholeNumbers(Float64Array.from([3, v]), 0, 2, 0)).toBe(false);
    }
    expect(wholeNumbers(Float64Array.from([-1, 5]), 0, 2, -1)).toBe(true);
    expect(wholeNumbers(Float64Array.from([-2]), 0, 1, -1)).toBe(false);
  });
});
