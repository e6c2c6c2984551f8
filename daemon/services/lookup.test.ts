import { describe, expect, it } from 'vitest';
import { BellaError } from '../api';
import type { State } from '../store';
import { findScopedEnvironment } from './lookup';

// Only what findScopedEnvironment reads: a project with one environment and its secrets by key.
function stateWith(keys: string[]): State {
  const secrets = Object.fromEntries(keys.map((k) => [k, { value: 'sealed' }]));
  return { projects: { app: { slug: 'app', environments: { dev: { slug: 'dev', secrets } } } } } as unknown as State;
}

function refusal(fn: () => unknown): BellaError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BellaError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('findScopedEnvironment: every scope entry must match a key', () => {
  const state = stateWith(['DB_URL', 'DB_USER', 'API_KEY']);

  it('accepts keys named in full and globs that match', () => {
    const env = findScopedEnvironment(state, 'app', 'dev', ['API_KEY', 'DB_*', 'API_KEY']);
    expect(Object.keys(env.secrets)).toEqual(['DB_URL', 'DB_USER', 'API_KEY']);
    expect(findScopedEnvironment(state, 'app', 'dev', [])).toBe(env);
  });

  it('names every entry that matches nothing, in scope order, with the keys sorted', () => {
    const err = refusal(() => findScopedEnvironment(state, 'app', 'dev', ['NOPE', 'API_KEY', 'X_*', 'DB_*']));
    expect(err.code).toBe('invalid_argument');
    expect(err.message).toBe('scope NOPE, X_* matches no key in app/dev; its keys: API_KEY, DB_URL, DB_USER');
  });

  it('counts only the environment’s own keys (never an inherited name)', () => {
    const err = refusal(() => findScopedEnvironment(state, 'app', 'dev', ['constructor', 'toString', '__proto__']));
    expect(err.message).toContain('scope constructor, toString, __proto__ matches no key');
  });

  it('says so when the environment has no keys yet', () => {
    const err = refusal(() => findScopedEnvironment(stateWith([]), 'app', 'dev', ['API_KEY']));
    expect(err.message).toBe('app/dev has no secrets yet: add the keys the lease should read first');
  });
});
