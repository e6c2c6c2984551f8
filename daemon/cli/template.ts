import { BellaError } from '../api/errors';
import { SECRET_KEY_PATTERN } from '../api/types';

/**
 * `bella inject` templates: a reference is `{{ bella:KEY }}` (spaces inside the braces
 * optional). Anything else, other `{{ … }}` templates included, is left as it is.
 */
const REFERENCE = /\{\{\s*bella:([^\s}]*)\s*\}\}/g;

/** One reference in a template. */
export interface Reference {
  key: string;
  /** 1-based line of its first use. */
  line: number;
}

/** The keys a template refers to, each once, in order of first use; a malformed one is an error naming its line. */
export function templateReferences(template: string): Reference[] {
  const seen = new Map<string, Reference>();
  for (const match of template.matchAll(REFERENCE)) {
    const key = match[1] as string;
    const line = template.slice(0, match.index).split('\n').length;
    if (!SECRET_KEY_PATTERN.test(key)) {
      throw new BellaError(
        'invalid_argument',
        `line ${line}: {{ bella:${key} }} is not a valid reference (keys are letters, digits and underscores, e.g. {{ bella:DATABASE_URL }})`,
      );
    }
    if (!seen.has(key)) seen.set(key, { key, line });
  }
  return [...seen.values()];
}

/** The template with every reference replaced by its value (all must be in `values`). */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(REFERENCE, (_, key: string) => values[key] as string);
}
