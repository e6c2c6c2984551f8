import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeB64, hashBytes, printableIdHash, wholeNumbers } from './lease-codec';

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

  it('hashes an id and checks its bytes printable in one pass', () => {
    const id = Buffer.from('abcdefgh01234567', 'latin1');
    expect(printableIdHash(id, 0)).toBe(hashBytes(id, 0));
    for (const c of [0x20, 0x7f, 0x00, 0x80, 0xff]) {
      const bad = Buffer.from(id);
      bad[7] = c;
      expect(printableIdHash(bad, 0)).toBe(-1);
    }
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
