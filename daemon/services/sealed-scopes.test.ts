import { describe, expect, it } from 'vitest';
import type { StoredEnvironment } from '../store';
import { SealedScopes } from './sealed-scopes';

// The blob of a scope is opened instead of each value while every value it was made from is the
// one stored; any change to a value, to the data key version or to the environment makes it anew.

function environment(values: Record<string, string>): StoredEnvironment {
  const secrets: Record<string, { sealed: string }> = {};
  for (const [key, value] of Object.entries(values)) secrets[key] = { sealed: `sealed:${value}` };
  return { secrets, keyVersion: 1 } as unknown as StoredEnvironment;
}

describe('SealedScopes', () => {
  const opened: string[] = [];
  const openValue = (key: string, sealed: string) => {
    opened.push(key);
    return sealed.slice('sealed:'.length);
  };

  it('opens each value once, then the blob, until a value or the key version changes', () => {
    const scopes = new SealedScopes();
    const env = environment({ A: 'a1', B: 'b1', C: 'c1' });
    opened.length = 0;
    expect(scopes.reveal('p/e', env, ['A', 'B'], openValue)).toEqual({ A: 'a1', B: 'b1' });
    expect(opened).toEqual(['A', 'B']);
    expect(scopes.reveal('p/e', env, ['A', 'B'], openValue)).toEqual({ A: 'a1', B: 'b1' });
    expect(opened).toEqual(['A', 'B']);

    env.secrets.B = { ...env.secrets.B!, sealed: 'sealed:b2' };
    expect(scopes.reveal('p/e', env, ['A', 'B'], openValue)).toEqual({ A: 'a1', B: 'b2' });
    expect(opened).toEqual(['A', 'B', 'A', 'B']);

    env.keyVersion = 2;
    expect(scopes.reveal('p/e', env, ['A', 'B'], openValue)).toEqual({ A: 'a1', B: 'b2' });
    expect(opened).toHaveLength(6);

    // Another environment object (a reload) with the same sealed texts is not trusted blindly.
    const copy = { ...env, secrets: { ...env.secrets } } as StoredEnvironment;
    expect(scopes.reveal('p/e', copy, ['A', 'B'], openValue)).toEqual({ A: 'a1', B: 'b2' });
    expect(opened).toHaveLength(8);
  });

  it('leaves out keys the environment lacks and keeps no blob for such a scope', () => {
    const scopes = new SealedScopes();
    const env = environment({ A: 'a1', C: 'c1' });
    opened.length = 0;
    expect(scopes.reveal('p/e', env, ['A', 'B', 'C'], openValue)).toEqual({ A: 'a1', C: 'c1' });
    expect(scopes.reveal('p/e', env, ['A', 'B', 'C'], openValue)).toEqual({ A: 'a1', C: 'c1' });
    expect(opened).toEqual(['A', 'C', 'A', 'C']);
    delete env.secrets.C;
    expect(scopes.reveal('p/e', env, ['A', 'C'], openValue)).toEqual({ A: 'a1' });
  });

  it('opens a single key directly, and forgets every blob on clear', () => {
    const scopes = new SealedScopes();
    const env = environment({ A: 'a1', B: 'b1' });
    opened.length = 0;
    scopes.reveal('p/e', env, ['A'], openValue);
    scopes.reveal('p/e', env, ['A'], openValue);
    expect(opened).toEqual(['A', 'A']);
    scopes.reveal('p/e', env, ['A', 'B'], openValue);
    scopes.clear();
    scopes.reveal('p/e', env, ['A', 'B'], openValue);
    expect(opened).toEqual(['A', 'A', 'A', 'B', 'A', 'B']);
  });
});
