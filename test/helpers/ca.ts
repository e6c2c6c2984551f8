import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import crypto from 'node:crypto';

const webcrypto = globalThis.crypto;
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const generateKeys = () => webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
type CryptoKeyPair = Awaited<ReturnType<typeof generateKeys>>;

/** A throwaway certificate authority, standing in for "the user's own CA". */
export interface TestCa {
  certPem: string;
  keys: CryptoKeyPair;
  cert: x509.X509Certificate;
}

/** A leaf issued by a {@link TestCa}. */
export interface IssuedLeaf {
  certPem: string;
  keyPem: string;
}

/** Creates a CA certificate valid for a day. */
export async function createTestCa(name = 'bella test CA'): Promise<TestCa> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: `CN=${name}`,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      signingAlgorithm: ALG,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return { certPem: cert.toString('pem') + '\n', keys, cert };
}

/** Issues a server certificate for `names` (DNS names or IPs) from `ca`. */
export async function issueLeaf(
  ca: TestCa,
  names: { dns?: string[]; ip?: string[] },
  validity: { notBefore?: Date; notAfter?: Date } = {},
): Promise<IssuedLeaf> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.create(
    {
      subject: `CN=${names.dns?.[0] ?? names.ip?.[0] ?? 'leaf'}`,
      issuer: ca.cert.subject,
      notBefore: validity.notBefore ?? new Date(Date.now() - 60_000),
      notAfter: validity.notAfter ?? new Date(Date.now() + 86_400_000),
      signingAlgorithm: ALG,
      publicKey: keys.publicKey,
      signingKey: ca.keys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          ...(names.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
          ...(names.ip ?? []).map((value) => ({ type: 'ip' as const, value })),
        ]),
        await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return {
    certPem: cert.toString('pem') + '\n',
    keyPem: crypto.KeyObject.from(keys.privateKey as crypto.webcrypto.CryptoKey).export({
      type: 'pkcs8',
      format: 'pem',
    }) as string,
  };
}
