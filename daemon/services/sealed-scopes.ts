import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { open, own, seal, type StoredEnvironment } from '../store';

/** Scopes with fewer keys are opened value by value: one blob would save no decipher. */
const MIN_KEYS = 2;
/** A scope whose values take more than this is not kept as a blob (opened value by value). */
const MAX_BLOB_CHARS = 256 * 1024;
/** The most blob characters kept at once; the oldest blobs go first. */
const MAX_TOTAL_CHARS = 8 * 1024 * 1024;

interface Blob {
  env: StoredEnvironment;
  keyVersion: number;
  /** The sealed value of each key as stored when the blob was made, in the scope's order. */
  sources: string[];
  sealed: string;
}

/**
 * One sealed blob per environment and scope (issue 21): a token read of n keys opens one blob
 * instead of deciphering n values, each decipher being mostly per-call overhead. The blobs are
 * held in memory only, sealed (AES-256-GCM) with a key made at start and never written; no value
 * is kept in plaintext. A blob is used only while every value it was made from is still the one
 * stored (same sealed text, same data key version); otherwise it is made again from the values.
 */
export class SealedScopes {
  private readonly key: KeyObject = createSecretKey(randomBytes(32));
  private readonly blobs = new Map<string, Blob>();
  private chars = 0;

  /**
   * The values of `keys` in `env` (keys it does not hold are left out), opened from the blob of
   * this scope, or with `openValue` one by one (and then kept as a blob for the next read).
   */
  reveal(
    id: string,
    env: StoredEnvironment,
    keys: string[],
    openValue: (key: string, sealed: string) => string,
  ): Record<string, string> {
    const out: Record<string, string> = {};
    if (keys.length < MIN_KEYS) {
      for (const key of keys) {
        const stored = own(env.secrets, key);
        if (stored) out[key] = openValue(key, stored.sealed);
      }
      return out;
    }
    const name = `${id}\n${keys.join('\n')}`;
    const blob = this.blobs.get(name);
    if (blob && this.current(blob, env, keys)) {
      const values = JSON.parse(open(this.key, blob.sealed, name).toString('utf8')) as string[];
      for (let i = 0; i < keys.length; i++) out[keys[i]!] = values[i]!;
      return out;
    }
    if (blob) this.drop(name, blob);
    const sources: string[] = [];
    const values: string[] = [];
    for (const key of keys) {
      const stored = own(env.secrets, key);
      if (!stored) continue;
      const value = openValue(key, stored.sealed);
      out[key] = value;
      sources.push(stored.sealed);
      values.push(value);
    }
    // A scope naming a key the environment lacks is not kept: the next read looks again.
    if (values.length === keys.length) this.keep(name, env, sources, values);
    return out;
  }

  /** Forgets every blob (the state was reloaded from disk). */
  clear(): void {
    this.blobs.clear();
    this.chars = 0;
  }

  private current(blob: Blob, env: StoredEnvironment, keys: string[]): boolean {
    if (blob.env !== env || blob.keyVersion !== env.keyVersion) return false;
    for (let i = 0; i < keys.length; i++) {
      if (own(env.secrets, keys[i]!)?.sealed !== blob.sources[i]) return false;
    }
    return true;
  }

  private keep(name: string, env: StoredEnvironment, sources: string[], values: string[]): void {
    const sealed = seal(this.key, JSON.stringify(values), name);
    if (sealed.length > MAX_BLOB_CHARS) return;
    for (const [oldest, blob] of this.blobs) {
      if (this.chars + sealed.length <= MAX_TOTAL_CHARS) break;
      this.drop(oldest, blob);
    }
    this.blobs.set(name, { env, keyVersion: env.keyVersion, sources, sealed });
    this.chars += sealed.length;
  }

  private drop(name: string, blob: Blob): void {
    this.blobs.delete(name);
    this.chars -= blob.sealed.length;
  }
}
