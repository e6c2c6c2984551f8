import { describe, expect, it } from 'vitest';
import { iso } from './time';

describe('iso', () => {
  it('writes exactly what toISOString writes, for any whole or fractional millisecond, either side of 1970', () => {
    const edges = [0, -1, 1, 86_399_999, 86_400_000, -86_400_000, 253_402_300_799_999, 253_402_300_800_000];
    const more = [-62_167_219_200_000, -62_167_219_200_001, 8.64e15, -8.64e15, 1.5, -0.5, 1_796_289_064_573];
    for (const ms of [...edges, ...more]) expect(iso(ms)).toBe(new Date(ms).toISOString());
    let seed = 12345;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    for (let i = 0; i < 50_000; i++) {
      // Spread over ±500 years, and clustered in a few days as a busy daemon's times are.
      const ms = i % 2 ? (next() - 2 ** 30) * 7_345_678 : 1_796_289_064_573 + (next() % (3 * 86_400_000));
      expect(iso(ms)).toBe(new Date(ms).toISOString());
    }
  });

  it('throws for what is not a time, as toISOString does', () => {
    expect(() => iso(Number.NaN)).toThrow(RangeError);
    expect(() => iso(8.64e15 + 1)).toThrow(RangeError);
  });
});
