/**
 * The one written form of a certificate fingerprint: `sha256:` followed by 64 lowercase hex
 * digits of the SHA-256 of the certificate's DER. The listener prints it, the holder pins it.
 * Imports nothing, so the daemon and the light clients share it.
 */
export const FINGERPRINT_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** Formats a SHA-256 digest (bytes or hex) as `sha256:<64 lowercase hex>`. */
export function formatFingerprint(digest: Uint8Array | string): string {
  const hex = typeof digest === 'string' ? digest : Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  return `sha256:${hex.toLowerCase()}`;
}

/**
 * Reads a fingerprint as people paste it: `sha256:ab12…`, the colon-separated `AB:12:…` that
 * openssl and browsers print, either case. Returns the canonical form, or null when it is not
 * a SHA-256 fingerprint.
 */
export function parseFingerprint(text: string): string | null {
  const body = text
    .trim()
    .replace(/^sha-?256(\s*fingerprint)?\s*[:=]?\s*/i, '')
    .replace(/:/g, '')
    .toLowerCase();
  return /^[0-9a-f]{64}$/.test(body) ? `sha256:${body}` : null;
}
