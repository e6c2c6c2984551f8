import 'reflect-metadata';
import { createHash, KeyObject, X509Certificate, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { deviceFingerprint } from './device-key';

const crypto = webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.create>[1];

async function keys(curve: 'P-256' | 'P-384') {
  return webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: curve }, true, ['sign', 'verify']);
}

async function certificate(
  subject: webcrypto.CryptoKeyPair,
  signer: webcrypto.CryptoKeyPair,
  hash = 'SHA-256',
): Promise<X509Certificate> {
  const cert = await x509.X509CertificateGenerator.create(
    {
      subject: 'CN=device',
      issuer: 'CN=device',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      signingAlgorithm: { name: 'ECDSA', hash },
      publicKey: subject.publicKey,
      signingKey: signer.privateKey,
    },
    crypto,
  );
  return new X509Certificate(cert.toString('pem'));
}

function spkiFingerprint(pair: webcrypto.CryptoKeyPair): string {
  const der = KeyObject.from(pair.publicKey).export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

describe('the device a client certificate stands for', () => {
  it("is the SHA-256 of a self-signed P-256 certificate's public key", async () => {
    const device = await keys('P-256');
    expect(deviceFingerprint(await certificate(device, device))).toBe(spkiFingerprint(device));
    expect(deviceFingerprint(undefined)).toBeNull();
  });

  it('is nothing for a certificate signed by another key, even one of a known device', async () => {
    const device = await keys('P-256');
    const other = await keys('P-256');
    expect(deviceFingerprint(await certificate(device, other))).toBeNull();
  });

  it('is nothing for a self-signed certificate of another curve', async () => {
    const p384 = await keys('P-384');
    expect(deviceFingerprint(await certificate(p384, p384, 'SHA-384'))).toBeNull();
  });
});
