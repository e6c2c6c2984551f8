import { createHash } from 'node:crypto';
import type { CacheSeal } from './bundle';

const sha256 = (...parts: Buffer[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

/**
 * The daemon's code caches, sealed (daemon/server/start.ts): a cache file is a SHA-256 over its
 * source's SHA-256 and V8's bytes, then the bytes. V8 checks a cache's version, flags and the
 * source's length, but in a release build not the bytes themselves (a cache damaged inside makes
 * V8 abort the process), nor that the source is the one the cache was made from (the cache of
 * another source of the same length runs the old code). So no cache reaches V8 unless it is whole
 * and made from this very source. (The daemon loads node:crypto anyway; the CLI, which does not,
 * reads its build-made cache unsealed.)
 */
export const daemonSeal: CacheSeal = {
  digest: (source) => sha256(source),
  open(digest, file) {
    const data = file.subarray(32);
    return file.length > 32 && sha256(digest, data).equals(file.subarray(0, 32)) ? data : undefined;
  },
};

/** A cache file for V8's `data`, sealed to a source of that digest. */
export function sealCache(digest: Buffer, data: Buffer): Buffer {
  return Buffer.concat([sha256(digest, data), data]);
}
