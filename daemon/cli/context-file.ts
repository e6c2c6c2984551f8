import fs from 'node:fs';
import path from 'node:path';
import { BellaError } from '../api/errors';

/** The `.bella` file: the project and environment a directory (and those below it) works on. */
export interface ContextFile {
  project: string;
  environment: string;
  /** The file it was read from. */
  file: string;
}

/** The name of the context file. */
export const CONTEXT_FILE = '.bella';

/** The nearest `.bella` file from `dir` upward, or undefined when there is none. */
export function findContextFile(dir: string): ContextFile | undefined {
  let current = path.resolve(dir);
  for (;;) {
    const file = path.join(current, CONTEXT_FILE);
    let text: string | undefined;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR') {
        throw new BellaError('invalid_argument', `cannot read ${file}: ${code ?? (err as Error).message}`);
      }
    }
    if (text !== undefined) return parseContextFile(file, text);
    const parent = path.dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

function parseContextFile(file: string, text: string): ContextFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BellaError('invalid_argument', `${file} is not valid JSON: fix it or rerun \`bella context init\``);
  }
  const { project, environment } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof project !== 'string' || typeof environment !== 'string' || !project || !environment) {
    throw new BellaError(
      'invalid_argument',
      `${file} must hold {"project": "...", "environment": "..."}: fix it or rerun \`bella context init\``,
    );
  }
  return { project, environment, file };
}
