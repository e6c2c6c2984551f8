import { describe, expect, it } from 'vitest';
import { dotenvProblemText } from '../api/dotenv';
import { parseDotenv } from './dotenv';

describe('parseDotenv', () => {
  it('reads keys, export, quotes, comments and multi-line values as the dotenv library does', () => {
    const { secrets, problems } = parseDotenv(
      [
        '# comment',
        'A=1',
        'export B = two words # trailing',
        "C='single #kept'",
        'D="line1\\nline2"',
        'E="multi',
        'line"',
        'EMPTY=',
        'URL=postgres://u:p@h:5432/db?x=1',
      ].join('\n'),
    );
    expect(problems).toEqual([]);
    expect(secrets).toEqual({
      A: '1',
      B: 'two words',
      C: 'single #kept',
      D: 'line1\nline2',
      E: 'multi\nline',
      EMPTY: '',
      URL: 'postgres://u:p@h:5432/db?x=1',
    });
  });

  it('names each key and value the contract refuses, with its line', () => {
    const { problems } = parseDotenv('OK=1\nmy-key=2\nNUL="a\0b"\n');
    expect(problems.map((p) => [p.kind, p.line, p.key])).toEqual([
      ['key', 2, 'my-key'],
      ['value', 3, 'NUL'],
    ]);
    expect(dotenvProblemText(problems[0]!, 'keys.env')).toBe(
      'KEY my-key (line 2 of keys.env): keys are letters, digits and underscores, not starting with a digit',
    );
    expect(dotenvProblemText(problems[1]!)).toBe(
      'the value of NUL (line 3) contains a NUL byte (\\0), which no environment variable can hold: remove it',
    );
  });

  it('says when a text holds no KEY=value line', () => {
    const { problems } = parseDotenv('# only a comment\nnot a pair\n');
    expect(problems.map((p) => p.kind)).toEqual(['empty', 'line']);
    expect(dotenvProblemText(problems[0]!, '.env')).toBe('.env holds no KEY=value lines');
  });

  it('names every line the dotenv library would skip, quoting only the text before =', () => {
    const text = [
      'A=1',
      'bad line here',
      'API KEY=sk_live_secret',
      'B="multi',
      'not a key but inside B',
      'end"',
      "C='one line' # comment",
      '=novalue',
      '  # indented comment',
      'export D=4',
      'E: colon form',
    ].join('\n');
    const { secrets, problems } = parseDotenv(text);
    expect(Object.keys(secrets)).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(problems.map((p) => [p.kind, p.line, p.key])).toEqual([
      ['line', 2, ''],
      ['line', 3, 'API KEY'],
      ['line', 8, ''],
    ]);
    expect(dotenvProblemText(problems[0]!, 'app.env')).toBe('line 2 of app.env is not a KEY=value line');
    expect(dotenvProblemText(problems[1]!)).toBe(
      'line 3 is not a KEY=value line: "API KEY" is not a key (letters, digits and _ only, no spaces)',
    );
    expect(JSON.stringify(problems)).not.toContain('sk_live_secret');
  });
});
