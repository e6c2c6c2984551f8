import { createRequire } from 'node:module';
import { dotenvProblemText, type DotenvProblem } from '../api/dotenv';
import { BellaError } from '../api/errors';
import { SecretKey, SecretValue } from '../api/schemas';

let dotenv: typeof import('dotenv') | null = null;

/** dotenv's parser, loaded at the first import of a `.env` text: an idle daemon never holds it (issue 21). */
function parse(text: string): Record<string, string> {
  dotenv ??= createRequire(import.meta.url)('dotenv') as typeof import('dotenv');
  return dotenv.parse(text);
}

/** What a `.env` text holds: the secrets it sets, and why it cannot be imported as it is. */
export interface ParsedDotenv {
  secrets: Record<string, string>;
  problems: DotenvProblem[];
}

/**
 * Parses a `.env` text with the dotenv library (the one reading of the format, for the CLI's
 * `secrets push` and the desktop import alike) and checks every key and value by the contract.
 */
export function parseDotenv(text: string): ParsedDotenv {
  const secrets = parse(text);
  const problems: DotenvProblem[] = [];
  const lines = text.split(/\r\n|\r|\n/);
  const keys = Object.keys(secrets);
  if (keys.length === 0) problems.push({ kind: 'empty', line: 0, key: '', message: 'holds no KEY=value lines' });
  problems.push(...skippedLines(lines, secrets));
  for (const key of keys) {
    const value = secrets[key] as string;
    const keyCheck = SecretKey().safeParse(key);
    if (!keyCheck.success) {
      problems.push({ kind: 'key', line: lineOf(lines, key), key, message: firstMessage(keyCheck.error) });
      continue;
    }
    if (value.includes('\0')) {
      problems.push({
        kind: 'value',
        line: lineOf(lines, key),
        key,
        message: 'contains a NUL byte (\\0), which no environment variable can hold: remove it',
      });
      continue;
    }
    const valueCheck = SecretValue().safeParse(value);
    if (!valueCheck.success) {
      problems.push({
        kind: 'value',
        line: lineOf(lines, key),
        key,
        message: `is refused: ${firstMessage(valueCheck.error)}`,
      });
    }
  }
  problems.sort((a, b) => a.line - b.line);
  return { secrets, problems };
}

/** The refusal of a `.env` text with problems: the first named, all of them in the details. */
export function dotenvRefused(problems: DotenvProblem[]): BellaError {
  const first = dotenvProblemText(problems[0] as DotenvProblem);
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return new BellaError('invalid_argument', `${first}${more}: nothing was imported`, { problems });
}

/** `KEY=` or `KEY:` (dotenv's two separators) at the start of a line, after an optional `export`. */
const ASSIGNMENT = /^\s*(?:export\s+)?([\w.-]+)(?:\s*=|:\s)(.*)$/;

/**
 * The lines the dotenv library skips without a word (`bad line here`, `API KEY=foo`): every line
 * that is not blank, not a comment, not an assignment of a key it read, and not inside a quoted
 * value spanning lines. Only the text before `=` is quoted back: the rest may be a secret.
 */
function skippedLines(lines: string[], secrets: Record<string, string>): DotenvProblem[] {
  const problems: DotenvProblem[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const assignment = ASSIGNMENT.exec(line);
    if (assignment && Object.hasOwn(secrets, assignment[1] as string)) {
      i = endOfValue(lines, i, (assignment[2] as string).trimStart());
      continue;
    }
    const before = trimmed.includes('=') ? trimmed.slice(0, trimmed.indexOf('=')).trim() : '';
    problems.push({
      kind: 'line',
      line: i + 1,
      key: before,
      message: before
        ? `is not a KEY=value line: "${before}" is not a key (letters, digits and _ only, no spaces)`
        : 'is not a KEY=value line',
    });
  }
  return problems;
}

/** The index of the line where a value starting on line `i` ends: a quote opened and not closed on its line runs on. */
function endOfValue(lines: string[], i: number, value: string): number {
  const quote = value[0];
  if (quote !== '"' && quote !== "'" && quote !== '`') return i;
  if (closes(value.slice(1), quote)) return i;
  for (let j = i + 1; j < lines.length; j++) if (closes(lines[j] as string, quote)) return j;
  return lines.length - 1;
}

function closes(text: string, quote: string): boolean {
  for (let k = 0; k < text.length; k++) {
    if (text[k] === '\\' && quote === '"') k++;
    else if (text[k] === quote) return true;
  }
  return false;
}

function firstMessage(error: { issues: { message: string }[] }): string {
  return error.issues[0]?.message ?? 'not valid';
}

/** The line where `key` is (last) assigned, 1-based; dotenv keeps the last assignment. */
function lineOf(lines: string[], key: string): number {
  const assigns = new RegExp(`^\\s*(?:export\\s+)?${key.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}\\s*[=:]`);
  for (let i = lines.length - 1; i >= 0; i--) if (assigns.test(lines[i] as string)) return i + 1;
  return 0;
}
