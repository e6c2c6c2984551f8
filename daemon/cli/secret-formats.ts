/**
 * Secrets written as files people source or load: dotenv and POSIX shell. Both are read back
 * to exactly the values written; neither ever lets a value run as a command.
 */

/** A value the chosen format cannot carry unchanged. */
export class UnwritableValueError extends Error {
  constructor(
    readonly key: string,
    why: string,
  ) {
    super(`the value of ${key} ${why}`);
  }
}

// Bare values both readers take as they are: no spaces, quotes, `#`, `$`, backslashes or `~`.
const BARE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * The one dotenv form of `value` that both the dotenv library and a POSIX shell (`set -a;
 * . ./app.env`) read back unchanged, or undefined when there is none:
 *
 * - bare when only safe characters;
 * - single quotes when it has no `'` (the shell takes everything inside literally; dotenv
 *   too, multi-line included); not when it ends in `\`, which dotenv reads as an escaped quote;
 * - double quotes when it has a `'` but none of `"`, `$` and backticks (the shell would
 *   expand them) and no backslash the shell or dotenv would read as an escape.
 *
 * dotenv unescapes nothing inside quotes but `\n` and `\r`, and the shell never turns `\n`
 * into a newline, so no escaping is common to both: a value outside these cases (a `'` with a
 * `"`, `$` or backtick; a carriage return) has no safe dotenv form.
 */
export function dotenvValue(value: string): string | undefined {
  if (value === '') return "''";
  if (value.includes('\r')) return undefined;
  if (BARE.test(value)) return value;
  if (!value.includes("'") && !value.endsWith('\\')) return `'${value}'`;
  if (/["$`]/.test(value)) return undefined;
  // A backslash is literal to both only when the next character is not one either reads as an escape.
  if (/\\(?:[nr\\\n]|$)/.test(value)) return undefined;
  return `"${value}"`;
}

/** Why a value has no dotenv form (see {@link dotenvValue}). */
function whyNotDotenv(value: string): string {
  if (value.includes('\r')) return 'holds a carriage return, which dotenv turns into a newline';
  if (value.endsWith('\\') && !value.includes("'"))
    return 'ends in a backslash, which dotenv reads as escaping the closing quote';
  return 'has a \' together with ", $, a backtick or a backslash escape, which dotenv and sh read differently';
}

/** Secrets as a `.env` file that dotenv and `sh` both read back to the same values. */
export function toDotenv(secrets: Record<string, string>): string {
  const lines: string[] = [];
  for (const key of Object.keys(secrets).sort()) {
    const value = secrets[key] ?? '';
    const written = dotenvValue(value);
    if (written === undefined) {
      throw new UnwritableValueError(key, `${whyNotDotenv(value)}: use -o shell (for eval or .) or -o json`);
    }
    lines.push(`${key}=${written}`);
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** `value` single-quoted for a POSIX shell: `'it'\''s'`. Everything inside is literal. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Secrets as `export KEY='value'` lines, for `eval "$(bella pull -o shell)"` or `. ./file`. */
export function toShell(secrets: Record<string, string>): string {
  return Object.keys(secrets)
    .sort()
    .map((key) => `export ${key}=${shellQuote(secrets[key] ?? '')}\n`)
    .join('');
}
