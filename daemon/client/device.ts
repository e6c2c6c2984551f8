import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BellaError } from '../api/errors';
import { FINGERPRINT_PATTERN, formatFingerprint } from '../api/fingerprint';
import { isPinnedServerList } from '../api/team';

/** A device's key and the self-signed client certificate made from it. */
export interface DeviceKey {
  /** The P-256 private key, PKCS#8 PEM: kept 0600, never leaves the device. */
  keyPem: string;
  certPem: string;
  /** `sha256:` + hex SHA-256 of the public key's SubjectPublicKeyInfo: how the server knows the device. */
  fingerprint: string;
}

/** What `bella team join` leaves on a teammate's machine: where her team's server is, and her device. */
export interface Membership extends DeviceKey {
  /** `https://HOST:PORT` of the owner's listener, or of every node sharing its store, comma-separated. */
  server: string;
  /** The listener certificate's fingerprint, pinned: one per server, comma-separated. */
  serverFingerprint: string;
  /** Her name in the team, as the invite said. */
  name: string;
}

const TEAM_FILE = 'team.json';
const KEY_FILE = 'device-key.pem';
const CERT_FILE = 'device-cert.pem';

/** Her config directory: `$XDG_CONFIG_HOME/bella`, else `~/.config/bella` (BELLA_CONFIG_DIR overrides). */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BELLA_CONFIG_DIR) return path.resolve(env.BELLA_CONFIG_DIR);
  return path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'bella');
}

/**
 * The membership this machine joined, or null when it joined none. The files are checked like
 * any input: a damaged one is an error naming it, never a silent fallback to something else.
 */
export function readMembership(dir: string): Membership | null {
  const teamFile = path.join(dir, TEAM_FILE);
  let text: string;
  try {
    text = fs.readFileSync(teamFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw damaged(teamFile, (err as Error).message);
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw damaged(teamFile, 'it is not JSON');
  }
  const { server, serverFingerprint, name, fingerprint } = raw ?? {};
  if (
    typeof server !== 'string' ||
    typeof serverFingerprint !== 'string' ||
    !isPinnedServerList(server, serverFingerprint) ||
    typeof fingerprint !== 'string' ||
    !FINGERPRINT_PATTERN.test(fingerprint) ||
    typeof name !== 'string' ||
    !/^[a-z0-9][a-z0-9._-]{0,62}$/.test(name)
  ) {
    throw damaged(
      teamFile,
      'its server, serverFingerprint (one per server), name or fingerprint is missing or malformed',
    );
  }
  const read = (file: string) => {
    try {
      return fs.readFileSync(path.join(dir, file), 'utf8');
    } catch (err) {
      throw damaged(path.join(dir, file), (err as Error).message);
    }
  };
  return { server, serverFingerprint, name, fingerprint, keyPem: read(KEY_FILE), certPem: read(CERT_FILE) };
}

/** Writes the device key and certificate (0600, in a 0700 directory). */
export function writeDeviceKey(dir: string, key: DeviceKey): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  // Defends the device key: only its owner may read it; whoever holds it is her to the server.
  writePrivate(path.join(dir, KEY_FILE), key.keyPem);
  writePrivate(path.join(dir, CERT_FILE), key.certPem);
}

/** Writes the membership's team file once the server enrolled the device. */
export function writeMembership(dir: string, m: Omit<Membership, 'keyPem' | 'certPem'>): void {
  const { server, serverFingerprint, name, fingerprint } = m;
  writePrivate(
    path.join(dir, TEAM_FILE),
    JSON.stringify({ server, serverFingerprint, name, fingerprint }, null, 2) + '\n',
  );
}

function writePrivate(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temp, text, { mode: 0o600, flag: 'w' });
    fs.chmodSync(temp, 0o600);
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
}

function damaged(file: string, why: string): BellaError {
  return new BellaError(
    'invalid_argument',
    `${file} cannot be read (${why}): join again with a new invite code (bella team join CODE), or remove it to stop using the team's server`,
  );
}

/**
 * A new device key: an ECDSA P-256 key pair made here, and a client certificate signed by that
 * same key (self-signed; the server trusts the key it enrolled, not any CA).
 */
export async function makeDeviceKey(name: string): Promise<DeviceKey> {
  // Loaded only here, for `team join`: the ASN.1 library needs the Reflect metadata API.
  await import('reflect-metadata');
  const mod = (await import('@peculiar/x509')) as typeof import('@peculiar/x509') & {
    default?: typeof import('@peculiar/x509');
  };
  // Bundled as CommonJS: its exports may sit on `default`.
  const x509 = mod.X509CertificateGenerator ? mod : mod.default!;
  const { createHash, KeyObject, randomBytes, webcrypto } = await import('node:crypto');
  const alg = { name: 'ECDSA', namedCurve: 'P-256' } as const;
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString('hex'),
      name: [{ CN: [name] }, { O: ['bella device'] }],
      notBefore: new Date(now - 5 * 60_000),
      // The key, not the certificate, is what is enrolled; removal, not expiry, ends it.
      notAfter: new Date(now + 10 * 365 * 86_400_000),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      ],
    },
    webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1],
  );
  const keyPem = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string;
  const spki = KeyObject.from(keys.publicKey).export({ type: 'spki', format: 'der' });
  return {
    keyPem,
    certPem: cert.toString('pem'),
    fingerprint: formatFingerprint(createHash('sha256').update(spki).digest()),
  };
}
