import { createHash, type X509Certificate } from 'node:crypto';
import { formatFingerprint } from '../../api/fingerprint';

/**
 * The device fingerprint of a client certificate presented on the listener: `sha256:` + the
 * SHA-256 of its public key's SubjectPublicKeyInfo, or null when it is not a device's. The TLS
 * handshake has already proved that the peer holds the private key (CertificateVerify); here the
 * certificate must be signed by that same key (self-signed, as `bella team join` makes it) and
 * the key must be P-256, so a certificate borrowed from elsewhere or of another kind maps to nothing.
 */
export function deviceFingerprint(cert: X509Certificate | undefined): string | null {
  if (!cert) return null;
  const key = cert.publicKey;
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return null;
  try {
    if (!cert.verify(key)) return null;
  } catch {
    return null;
  }
  return formatFingerprint(
    createHash('sha256')
      .update(key.export({ type: 'spki', format: 'der' }))
      .digest(),
  );
}
