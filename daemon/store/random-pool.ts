import { randomBytes } from 'node:crypto';

/** Bytes drawn from the CSPRNG at once: one call serves many ids and token secrets. */
const POOL_BYTES = 4096;

let pool = Buffer.alloc(0);
let used = 0;

/**
 * `n` random bytes from the CSPRNG, taken from a block drawn at once: each call to `randomBytes`
 * costs about the same (~10 µs here) whatever its size, so a lease's id and token secret come
 * from one draw shared by ~60 leases (Node's `randomUUID()` buffers its entropy the same way).
 * Every byte is handed out once; the pool keeps no copy of what it handed out (zeroed).
 */
export function pooledRandomBytes(n: number): Buffer {
  if (n > POOL_BYTES / 4) return randomBytes(n);
  if (used + n > pool.length) {
    pool.fill(0);
    pool = randomBytes(POOL_BYTES);
    used = 0;
  }
  const out = Buffer.from(pool.subarray(used, used + n));
  pool.fill(0, used, used + n);
  used += n;
  return out;
}
