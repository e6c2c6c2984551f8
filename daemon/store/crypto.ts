import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import fs from 'node:fs';
import { BellaError } from '../api';
import { writeFileDurable } from '../base/node/files';
import { pooledRandomBytes } from './random-pool';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Keys derived from the master key, one per purpose. */
export interface KeyRing {
  /** Wraps environment data keys. */
  wrapKey: Buffer;
  /** Keys the token hashes, so a stolen state file cannot be brute-forced offline without the key file. */
  tokenKey: Buffer;
  /** Keys the audit hash chain of the v1 layout (read once, when migrating it). */
  auditKey: Buffer;
  /**
   * Keys every record of the journal, audit trail, lease archive and snapshot seals, so none can
   * be edited, cut in the middle or reordered without the key file.
   */
  logKey: Buffer;
  /** Seals notification channel URLs and signing secrets, which are credentials. */
  channelKey: Buffer;
  /** Seals every row bella writes to PostgreSQL (`--store postgres://…`). */
  rowKey: Buffer;
}

/** Reads the master key file, or creates it (0600) when `create` is set. */
export async function loadMasterKey(file: string, create: boolean): Promise<Buffer> {
  try {
    const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== KEY_BYTES) {
      throw new BellaError('internal', `${file} is not a bella master key (expected 32 bytes, base64)`);
    }
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (!create) {
      throw new BellaError(
        'unavailable',
        `the master key ${file} is missing but the state holds encrypted data: restore master.key from your backup; bella will not create a new one over existing data`,
      );
    }
    const key = randomBytes(KEY_BYTES);
    // The key file is the root of every secret: owner-only, separate from the state file.
    await writeFileDurable(file, key.toString('base64') + '\n');
    return key;
  }
}

/** Derives the per-purpose keys from the master key (HKDF-SHA256). */
export function deriveKeys(master: Buffer): KeyRing {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `bella ${info}`, KEY_BYTES));
  return {
    wrapKey: derive('wrap v1'),
    tokenKey: derive('token v1'),
    auditKey: derive('audit v1'),
    logKey: derive('log v2'),
    channelKey: derive('channels v1'),
    rowKey: derive('postgres store v1'),
  };
}

/** AES-256-GCM with a random nonce; output is base64 of nonce | tag | ciphertext. */
export function seal(key: Buffer | KeyObject, plaintext: Buffer | string, aad: string): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, cipher.getAuthTag(), ct]).toString('base64');
}

/** Opens what {@link seal} produced; throws when the data or its associated data was altered. */
export function open(key: Buffer | KeyObject, sealed: string, aad: string): Buffer {
  const raw = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE_BYTES));
  decipher.setAuthTag(raw.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  try {
    const plaintext = decipher.update(raw.subarray(NONCE_BYTES + TAG_BYTES));
    decipher.final(); // GCM yields nothing more here; it checks the tag
    return plaintext;
  } catch {
    throw new BellaError('internal', `cannot decrypt ${aad}: the data or the master key does not match`);
  }
}

/** A fresh environment data key. */
export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** Associated data binding a secret value to where it lives: a value moved to another key does not decrypt. */
export function secretAad(project: string, environment: string, key: string): string {
  return `secret:${project}/${environment}/${key}`;
}

/**
 * Associated data of a database URL: a database's admin URL (`lease` absent) or one lease's login
 * URL, bound to its environment, so a sealed URL copied elsewhere does not open.
 */
export function databaseUrlAad(project: string, environment: string, database: string, lease?: string): string {
  return `dburl:${project}/${environment}/${database}${lease ? `/${lease}` : ''}`;
}

/** Associated data binding a wrapped data key to its environment and version. */
export function dataKeyAad(project: string, environment: string, version: number): string {
  return `datakey:${project}/${environment}/v${version}`;
}

/** The keyed hash stored for a token's secret part; the token itself is never stored. */
export function hashToken(tokenKey: Buffer | KeyObject, leaseId: string, secret: string): string {
  return createHmac('sha256', tokenKey).update(`${leaseId}.${secret}`).digest('base64url');
}

/** Constant-time comparison of two hashes, so response timing does not reveal how much matched. */
export function hashesEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** The characters of {@link randomId}, as bytes: a-z, then 0-9. */
const ID_ALPHABET = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789', 'latin1');

/** Random identifiers and token secrets. */
export function randomId(length: number): string {
  const bytes = pooledRandomBytes(length * 2);
  // The characters are written into the random bytes' own buffer, then read as one string: no
  // string per character (a lease id is made at every issue).
  let n = 0;
  // Rejection sampling keeps every character uniformly likely.
  for (let i = 0; i < bytes.length && n < length; i++) {
    const b = bytes[i]!;
    if (b < 252) bytes[n++] = ID_ALPHABET[b % 36]!;
  }
  const out = bytes.toString('latin1', 0, n);
  bytes.fill(0);
  return n === length ? out : out + randomId(length - n);
}

/** 256 random bits, base64url, for the secret part of a token. */
export function tokenSecret(): string {
  return pooledRandomBytes(32).toString('base64url');
}
