import dotenv from 'dotenv';
import { dotenvProblemText, type DotenvProblem } from '../api/dotenv';
import { BellaError } from '../api/errors';
import { SecretKey, SecretValue } from '../api/schemas';

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
  const secrets = dotenv.parse(text);
  const problems: DotenvProblem[] = [];
  const lines = text.split(/\r\n|\r|\n/);
  const keys = Object.keys(secrets);
  if (keys.length === 0) problems.push({ kind: 'empty', line: 0, key: '', message: 'holds no KEY=value lines' });
  for (const key of keys) {
    const value = secrets[key] as string;
    const keyCheck = SecretKey.safeParse(key);
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
    const valueCheck = SecretValue.safeParse(value);
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

function firstMessage(error: { issues: { message: string }[] }): string {
  return error.issues[0]?.message ?? 'not valid';
}

/** The line where `key` is (last) assigned, 1-based; dotenv keeps the last assignment. */
function lineOf(lines: string[], key: string): number {
  const assigns = new RegExp(`^\\s*(?:export\\s+)?${key.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}\\s*[=:]`);
  for (let i = lines.length - 1; i >= 0; i--) if (assigns.test(lines[i] as string)) return i + 1;
  return 0;
}
