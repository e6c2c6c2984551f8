/**
 * Why a `.env` text cannot be imported as it is: a key the contract refuses (`key`), a value no
 * environment variable can hold (`value`), a line that is not `KEY=value` at all and that the dotenv
 * library would skip without a word (`line`, its `key` the text before `=`, if any), or no
 * `KEY=value` line at all (`empty`, line 0).
 */
export interface DotenvProblem {
  kind: 'key' | 'value' | 'line' | 'empty';
  line: number;
  key: string;
  message: string;
}

/**
 * A problem of a `.env` text as one sentence; `source` names the file (`line 2 of keys.env`),
 * else the line alone is named.
 */
export function dotenvProblemText(problem: DotenvProblem, source?: string): string {
  if (problem.kind === 'empty') return `${source ?? 'the .env text'} holds no KEY=value lines`;
  const where = source ? `line ${problem.line} of ${source}` : `line ${problem.line}`;
  if (problem.kind === 'line') return `${where} ${problem.message}`;
  return problem.kind === 'key'
    ? `KEY ${problem.key} (${where}): ${problem.message}`
    : `the value of ${problem.key} (${where}) ${problem.message}`;
}
