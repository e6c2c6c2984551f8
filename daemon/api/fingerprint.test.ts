import { describe, expect, it } from 'vitest';
import { FINGERPRINT_PATTERN, formatFingerprint, parseFingerprint } from './fingerprint';

const hex = 'ab'.repeat(32);

describe('fingerprints', () => {
  it('formats a digest as sha256: and lowercase hex', () => {
    expect(formatFingerprint(new Uint8Array(32).fill(0xab))).toBe(`sha256:${hex}`);
    expect(formatFingerprint(hex.toUpperCase())).toBe(`sha256:${hex}`);
    expect(FINGERPRINT_PATTERN.test(formatFingerprint(hex))).toBe(true);
  });

  it('reads the forms people paste and refuses the rest', () => {
    const colons = hex.toUpperCase().match(/../g)!.join(':');
    expect(parseFingerprint(`sha256:${hex}`)).toBe(`sha256:${hex}`);
    expect(parseFingerprint(`SHA256:${hex.toUpperCase()}`)).toBe(`sha256:${hex}`);
    expect(parseFingerprint(colons)).toBe(`sha256:${hex}`);
    expect(parseFingerprint(`sha256 Fingerprint=${colons}\n`)).toBe(`sha256:${hex}`);
    expect(parseFingerprint(hex.slice(2))).toBeNull();
    expect(parseFingerprint(`sha1:${hex}`)).toBeNull();
    expect(parseFingerprint(`sha256:${hex.slice(1)}z`)).toBeNull();
  });
});
