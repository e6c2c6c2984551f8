import { describe, expect, it } from 'vitest';
import { BellaError, invalidInput, isBellaError, isExpectedError } from './errors';
import { operations } from './operations';

describe('invalidInput', () => {
  it('puts paths and messages into words, and keeps every issue in the details', () => {
    const err = invalidInput([
      { path: [], message: 'bad' },
      { path: ['a', 0], message: 'worse', code: 'too_small' },
    ]);
    expect(err).toBeInstanceOf(BellaError);
    expect(err.code).toBe('invalid_argument');
    expect(err.message).toBe('bad; a.0: worse');
    expect(err.details).toEqual({
      issues: [
        { path: [], message: 'bad' },
        { path: ['a', '0'], message: 'worse', code: 'too_small' },
      ],
    });
  });

  it('spells out the first three issues and counts the rest', () => {
    const issues = ['a', 'b', 'c', 'd', 'e'].map((key) => ({ path: [key], message: 'wrong' }));
    const err = invalidInput(issues);
    expect(err.message).toBe('a: wrong; b: wrong; c: wrong (and 2 more)');
    expect((err.details as { issues: unknown[] }).issues).toHaveLength(5);
  });

  it('words what a schema reports', () => {
    const parsed = operations.issueLease.input.safeParse({ project: 'p', environment: 'e', scope: [], reason: '' });
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    const err = invalidInput(parsed.error.issues);
    expect(err.message).toContain('scope: name at least one key or glob');
    expect(err.message).toContain('reason: say why this access is needed');
  });
});

describe('isBellaError', () => {
  it('knows a bella error by its name and code, whichever copy of the class made it', () => {
    // What another bundle's BellaError looks like here: a class of the same name, not this one.
    const Other = class BellaError extends Error {
      override readonly name = 'BellaError';
      constructor(
        readonly code: string,
        message: string,
      ) {
        super(message);
      }
    };
    const foreign = new Other('conflict', 'already running');
    expect(foreign instanceof BellaError).toBe(false);
    expect(isBellaError(foreign)).toBe(true);
    expect(isBellaError(foreign, 'conflict')).toBe(true);
    expect(isBellaError(foreign, 'unavailable')).toBe(false);
    expect(isExpectedError(foreign)).toBe(true);
    expect(isExpectedError(new Other('internal', 'x'))).toBe(false);
    expect(isBellaError(new Other('made_up', 'x'))).toBe(false);
    expect(isBellaError(Object.assign(new Error('x'), { code: 'conflict' }))).toBe(false);
    expect(isBellaError(null)).toBe(false);
  });
});
