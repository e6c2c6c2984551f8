import fc from 'fast-check';
import { parse } from 'dotenv';
import { describe, expect, it } from 'vitest';
import { csvField, dotenvQuote, formatCsv, formatRelative, formatTable, formatTime, toDotenv } from './format';

describe('formatTable', () => {
  it('aligns columns under their headers', () => {
    const text = formatTable(
      ['ID', 'NAME'],
      [
        ['a', 'first'],
        ['long-id', 'x'],
      ],
    );
    expect(text.split('\n')).toEqual(['ID       NAME', 'a        first', 'long-id  x']);
  });
});

describe('times', () => {
  it('drops milliseconds and says how far away a time is', () => {
    expect(formatTime('2026-11-28T09:10:00.123Z')).toBe('2026-11-28T09:10:00Z');
    const now = Date.parse('2026-11-28T05:10:00Z');
    expect(formatRelative('2026-11-28T09:10:00Z', now)).toBe('in 4h');
    expect(formatRelative('2026-11-28T05:07:00Z', now)).toBe('3m ago');
  });
});

describe('csv', () => {
  it('quotes fields with commas, quotes and newlines', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField(['A', 'B'])).toBe('A;B');
    expect(csvField(undefined)).toBe('');
    expect(formatCsv(['x', 'y'], [[1, 'a\nb']])).toBe('x,y\r\n1,"a\nb"\r\n');
  });
});

describe('dotenv output', () => {
  it('round-trips awkward values through dotenv.parse', () => {
    const secrets = {
      EMPTY: '',
      SPACES: '  padded  ',
      HASH: 'a # not a comment',
      SINGLE: "it's",
      DOUBLE: 'say "hi"',
      MULTI: 'line1\nline2',
      BACKSLASH_N: 'C:\\new',
      URL: 'postgres://u:p@h:5432/db?ssl=true&x=1',
      TRAILING: 'ends\\',
      EQUALS: 'a=b=c',
    };
    expect(parse(toDotenv(secrets))).toEqual(secrets);
  });

  it('round-trips any value it agrees to write', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/), fc.string({ unit: 'binary', maxLength: 40 })),
        (secrets) => {
          const written = Object.fromEntries(Object.entries(secrets).filter(([, v]) => dotenvQuote(v) !== undefined));
          expect(parse(toDotenv(written))).toEqual(written);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses a value it cannot write faithfully, naming the key', () => {
    expect(() => toDotenv({ BAD: 'a\'b`c"d\r' })).toThrow(/BAD.*-o json/);
  });
});
