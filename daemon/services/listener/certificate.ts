import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import { BellaError } from '../../api/errors';
import { formatFingerprint } from '../../api/fingerprint';

type X509 = typeof import('@peculiar/x509');
let loaded: X509 | null = null;

/**
 * @peculiar/x509, loaded on first use (it holds some 16 MB): a daemon whose listener is off never
 * needs it. It resolves its ASN.1 types through tsyringe, which needs the Reflect metadata API.
 */
function x509(): X509 {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    require('reflect-metadata');
    loaded = require('@peculiar/x509') as X509;
  }
  return loaded;
}

/** A certificate and its private key as the TLS listener serves and stores them. */
export interface CertificatePair {
  /** The certificate in PEM; for a CA-issued one, followed by the intermediates as given. */
  certPem: string;
  /** The private key, PKCS#8 PEM. Store it 0600: whoever has it can impersonate the listener. */
  keyPem: string;
  /** `sha256:` + 64 lowercase hex digits of the certificate's DER (what holders pin). */
  fingerprint: string;
  /**
   * `sha256//` + base64 SHA-256 of the leaf's SubjectPublicKeyInfo (DER): what `curl --pinnedpubkey`
   * takes, so a holder fetching the CLI file trusts this key and nothing else (see publicKeyPinOf).
   */
  publicKeyPin: string;
  /** The end of validity, ISO 8601. */
  notAfter: string;
  /** The subject alternative names, as `DNS:host` / `IP:addr`. */
  names: string[];
}

/** What a self-signed listener certificate names and how long it lasts. */
export interface SelfSignedOptions {
  dnsNames: string[];
  ipAddresses: string[];
  /** Days of validity; 825 by default (the longest a TLS client platform accepts for a leaf). */
  validDays?: number;
  /** The issuing time (tests); now by default. */
  now?: Date;
}

/** Default validity of a generated listener certificate, in days. */
export const DEFAULT_VALID_DAYS = 825;

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
const webcrypto = globalThis.crypto;

/** The DNS names and addresses this machine is reached by: hostname, localhost, non-internal addresses and loopback. */
export function machineNames(): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames = [os.hostname(), 'localhost'].map((n) => n.toLowerCase()).filter(isDnsName);
  const ipAddresses = ['127.0.0.1', '::1'];
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) {
      // Link-local addresses only work with a zone id, which a URL or a SAN cannot carry.
      if (a.internal || a.address.toLowerCase().startsWith('fe80:')) continue;
      ipAddresses.push(a.address);
    }
  }
  return { dnsNames: [...new Set(dnsNames)], ipAddresses: [...new Set(ipAddresses)] };
}

/**
 * Sorts names a user typed (`--name`) into DNS names and IP addresses; throws
 * `invalid_argument` naming the first that is neither.
 */
export function splitNames(names: string[]): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const raw of names) {
    const name = raw.trim().replace(/^\[(.*)\]$/, '$1');
    if (net.isIP(name)) ipAddresses.push(name);
    else if (isDnsName(name.toLowerCase())) dnsNames.push(name.toLowerCase());
    else
      throw new BellaError(
        'invalid_argument',
        `--name ${raw} is neither a DNS name nor an IP address: give e.g. --name bella.example.lan`,
      );
  }
  return { dnsNames, ipAddresses };
}

/**
 * Generates an ECDSA P-256 key pair and a self-signed server certificate for the listener:
 * SANs = the given names and addresses, a random 126-bit serial, `notBefore` five minutes back
 * (holders' clocks drift), `notAfter` = now + `validDays`.
 */
export async function generateSelfSigned(options: SelfSignedOptions): Promise<CertificatePair> {
  const validDays = options.validDays ?? DEFAULT_VALID_DAYS;
  if (!Number.isInteger(validDays) || validDays < 1 || validDays > 3650) {
    throw new BellaError('invalid_argument', `validity must be 1 to 3650 days, not ${validDays}`);
  }
  const { dnsNames, ipAddresses } = splitNames([...options.dnsNames, ...options.ipAddresses]);
  if (dnsNames.length + ipAddresses.length === 0) {
    throw new BellaError('invalid_argument', 'a listener certificate needs at least one DNS name or IP address');
  }
  const now = options.now ?? new Date();
  const lib = x509();
  const keys = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const serial = crypto.randomBytes(16);
  // Positive and without a leading zero byte, so it encodes as exactly 16 bytes (RFC 5280 4.1.2.2).
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const cert = await lib.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString('hex'),
      name: [{ CN: [dnsNames[0] ?? 'bella'] }, { O: ['bella listener'] }],
      notBefore: new Date(now.getTime() - 5 * 60_000),
      notAfter: new Date(now.getTime() + validDays * DAY_MS),
      signingAlgorithm: SIGNING,
      keys,
      extensions: [
        // A leaf, not a CA: a stolen listener key cannot mint certificates for other hosts.
        new lib.BasicConstraintsExtension(false, undefined, true),
        new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature, true),
        new lib.ExtendedKeyUsageExtension([lib.ExtendedKeyUsage.serverAuth]),
        new lib.SubjectAlternativeNameExtension([
          ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
          ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
        ]),
        await lib.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  const keyPem = crypto.KeyObject.from(keys.privateKey as crypto.webcrypto.CryptoKey).export({
    type: 'pkcs8',
    format: 'pem',
  });
  return describe(cert.toString('pem') + '\n', keyPem as string);
}

/** The SHA-256 fingerprint of a PEM certificate's DER, written `sha256:` + 64 lowercase hex. */
export function fingerprintOf(certPem: string): string {
  return formatFingerprint(
    crypto.createHash('sha256').update(parseCertificate(certPem, 'the certificate').raw).digest(),
  );
}

/**
 * curl's `--pinnedpubkey` value for a PEM certificate (its first, the leaf): `sha256//` + the base64
 * SHA-256 of its SubjectPublicKeyInfo in DER. Security: with `-k` (the certificate is self-signed,
 * so no CA vouches for it) this pin is the whole trust: curl refuses any other key before sending
 * the request, as the CLI refuses any other fingerprint.
 */
export function publicKeyPinOf(certPem: string): string {
  const spki = parseCertificate(certPem, 'the certificate').publicKey.export({ type: 'spki', format: 'der' });
  return `sha256//${crypto.createHash('sha256').update(spki).digest('base64')}`;
}

/** Options of {@link loadCertificatePair}: the clock, and how the files are named in errors. */
export interface LoadOptions {
  now?: Date;
  /** How errors name the certificate, e.g. `--cert ./server.pem`. */
  certLabel?: string;
  /** How errors name the key, e.g. `--key ./server.key`. */
  keyLabel?: string;
}

/**
 * Validates a certificate and key a user brings from their own CA (`--cert FILE --key FILE`):
 * both parse as PEM, the key is unencrypted and strong enough, it belongs to the (first)
 * certificate, and the certificate is valid now. Intermediates after the leaf are kept and
 * served. Throws `invalid_argument` saying what to fix.
 */
export function loadCertificatePair(certPem: string, keyPem: string, options: LoadOptions = {}): CertificatePair {
  const certLabel = options.certLabel ?? 'the --cert file';
  const keyLabel = options.keyLabel ?? 'the --key file';
  const blocks = certPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) {
    throw invalid(
      `${certLabel} holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the certificate your CA issued, in PEM`,
    );
  }
  const [leaf, ...intermediates] = blocks.map((b) => parseCertificate(b, certLabel));
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(keyPem);
  } catch (err) {
    const encrypted = /passphrase|encrypted/i.test((err as Error).message) || keyPem.includes('ENCRYPTED');
    throw invalid(
      encrypted
        ? `${keyLabel} is encrypted: give an unencrypted copy (openssl pkey -in KEY -out KEY.plain) and keep it 0600`
        : `${keyLabel} is not a PEM private key: give the key the certificate was issued for`,
    );
  }
  checkKeyStrength(key, keyLabel);
  if (!leaf!.checkPrivateKey(key)) {
    throw invalid(`${keyLabel} does not belong to the certificate in ${certLabel}: give the key it was issued for`);
  }
  const now = options.now ?? new Date();
  if (now.getTime() > Date.parse(leaf!.validTo)) {
    throw invalid(
      `the certificate in ${certLabel} expired on ${new Date(leaf!.validTo).toISOString()}: renew it with your CA`,
    );
  }
  if (now.getTime() < Date.parse(leaf!.validFrom)) {
    throw invalid(
      `the certificate in ${certLabel} is not valid before ${new Date(leaf!.validFrom).toISOString()}: check this machine's clock`,
    );
  }
  const chain = [leaf!, ...intermediates].map((c) => c.toString().trim()).join('\n') + '\n';
  return describe(chain, key.export({ type: 'pkcs8', format: 'pem' }) as string);
}

function describe(certPem: string, keyPem: string): CertificatePair {
  const lib = x509();
  const cert = new lib.X509Certificate(
    certPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)![0],
  );
  const san = cert.getExtension(lib.SubjectAlternativeNameExtension);
  const names = (san?.names.items ?? []).map((n) => `${n.type === 'ip' ? 'IP' : n.type.toUpperCase()}:${n.value}`);
  return {
    certPem,
    keyPem,
    fingerprint: fingerprintOf(certPem),
    publicKeyPin: publicKeyPinOf(certPem),
    notAfter: cert.notAfter.toISOString(),
    names,
  };
}

function parseCertificate(pem: string, label: string): crypto.X509Certificate {
  try {
    return new crypto.X509Certificate(pem);
  } catch (err) {
    throw invalid(`${label} is not a valid PEM certificate (${(err as Error).message}): give the certificate in PEM`);
  }
}

// Defends against a listener protected by a key an attacker could factor or forge for.
function checkKeyStrength(key: crypto.KeyObject, label: string): void {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if ((type === 'rsa' || type === 'rsa-pss') && (details.modulusLength ?? 0) >= 2048) return;
  if (type === 'ec' && ['prime256v1', 'secp384r1', 'secp521r1'].includes(details.namedCurve ?? '')) return;
  if (type === 'ed25519') return;
  const what =
    type === 'ec'
      ? `EC ${details.namedCurve}`
      : `${type}${details.modulusLength ? ` ${details.modulusLength}-bit` : ''}`;
  throw invalid(`${label} is a ${what} key, which is too weak: use ECDSA P-256 or RSA of 2048 bits or more`);
}

function isDnsName(name: string): boolean {
  return (
    name.length <= 253 &&
    !net.isIP(name) &&
    name.split('.').every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label))
  );
}

function invalid(message: string): BellaError {
  return new BellaError('invalid_argument', message);
}
