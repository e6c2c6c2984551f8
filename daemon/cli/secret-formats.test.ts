import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { parse } from 'dotenv';
import { describe, expect, it } from 'vitest';
import { dotenvValue, shellQuote, toDotenv, toShell } from './secret-formats';

const AWKWARD = {
  EMPTY: '',
  SPACES: '  padded  ',
  HASH: 'a # not a comment',
  SINGLE: "it's",
  DOUBLE: 'say "hi"',
  MULTI: 'line1\nline2',
  BACKSLASH_N: 'C:\\new',
  URL: 'postgres://u:p@h:5432/db?ssl=true&x=1',
  EQUALS: 'a=b=c',
  SUBST: '$(touch pwned) `touch pwned2` ${HOME}',
  UNICODE: 'ünïcødé 漢字 😀',
  APOS_BACKSLASH: "it's C:\\dir",
};

/** What `sh` reads back from `text` sourced with `set -a`, as JSON (through node, not sh's printf). */
function sourced(shell: string, text: string, keys: string[]): Record<string, string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-fmt-'));
  try {
    fs.writeFileSync(path.join(dir, 'app.env'), text);
    const out = execFileSync(
      shell,
      [
        '-c',
        `set -a; . ./app.env; exec "$0" -e "process.stdout.write(JSON.stringify(Object.fromEntries(process.argv.slice(1).map((k) => [k, process.env[k] ?? null]))))" ${keys.join(' ')}`,
        process.execPath,
      ],
      { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH } },
    );
    expect(fs.readdirSync(dir)).toEqual(['app.env']);
    return JSON.parse(out) as Record<string, string>;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('dotenv output', () => {
  it('round-trips awkward values through dotenv.parse and sh alike, running nothing', () => {
    const text = toDotenv(AWKWARD);
    expect(parse(text)).toEqual(AWKWARD);
    expect(sourced('/bin/sh', text, Object.keys(AWKWARD))).toEqual(AWKWARD);
  });

  it('any value it agrees to write reads back the same with dotenv and sh', () => {
    const values = fc.sample(fc.string({ unit: 'binary', maxLength: 30 }), 400).filter((v) => !v.includes('\0'));
    const written = Object.fromEntries(values.filter((v) => dotenvValue(v) !== undefined).map((v, i) => [`K${i}`, v]));
    expect(Object.keys(written).length).toBeGreaterThan(300);
    const text = toDotenv(written);
    expect(parse(text)).toEqual(written);
    expect(sourced('/bin/sh', text, Object.keys(written))).toEqual(written);
  });

  it('refuses a value with no form both read alike, naming the key and the way out', () => {
    expect(() => toDotenv({ BAD: `it's "both"` })).toThrow(/BAD .*-o shell/);
    expect(() => toDotenv({ CR: 'a\rb' })).toThrow(/CR holds a carriage return/);
    expect(() => toDotenv({ TRAIL: 'ends\\' })).toThrow(/TRAIL ends in a backslash/);
  });
});

describe('shell output', () => {
  it('quotes every value so eval and . give it back exactly', () => {
    const values = { ...AWKWARD, BOTH: `it's "both" $(x) \`y\` \\ \r\n end\\` };
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    const text = toShell(values);
    expect(text.split('\n')[0]).toMatch(/^export [A-Z_]+='/);
    expect(sourced('/bin/sh', text, Object.keys(values))).toEqual(values);
  });
});
