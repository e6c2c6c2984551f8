import { describe, expect, it } from 'vitest';
import { scopeMatcher, unmatchedEntries } from './scope';

describe('scope', () => {
  it('matches exact keys and *-globs only', () => {
    const match = scopeMatcher(['DATABASE_URL', 'STRIPE_*']);
    expect(['DATABASE_URL', 'STRIPE_KEY', 'STRIPE_', 'REDIS_URL', 'DATABASE_URL2'].filter(match)).toEqual([
      'DATABASE_URL',
      'STRIPE_KEY',
      'STRIPE_',
    ]);
  });

  it('names the entries that match nothing', () => {
    expect(unmatchedEntries(['A', 'B*', 'C'], ['A', 'BX'])).toEqual(['C']);
  });
});
