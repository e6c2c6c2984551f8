import { BellaError } from '../api/errors';

/**
 * Why `key` is not a valid secret key, by the contract's own schema (loaded on demand: only
 * `secrets set` and `push` need it), or undefined when it is fine.
 */
export async function keyProblem(key: string): Promise<string | undefined> {
  const { SecretKey } = await import('../api/schemas');
  const result = SecretKey().safeParse(key);
  return result.success ? undefined : (result.error.issues[0]?.message ?? 'not a valid key');
}

/** The error for a key the contract refuses, with a hint for `FOO=bar` typed as one word. */
export function invalidKey(key: string, problem: string, where = ''): BellaError {
  const eq = key.indexOf('=');
  const hint =
    eq > 0
      ? ` (to set ${key.slice(0, eq)} to ${key.slice(eq + 1)}: bella secrets set ${key.slice(0, eq)} ${key.slice(eq + 1)})`
      : '';
  return new BellaError('invalid_argument', `KEY ${key}${where}: ${problem}${hint}`);
}
