import { isExpectedError, type BellaError } from '../api/errors';
import { escapeControls } from '../base/common/terminal-text';
import { EXIT, ExitCode, UsageError } from './framework/errors';
import { optionKey, type Invocation } from './framework/spec';

/** Where errors are reported. */
export interface ErrorSink {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
}

function oneLine(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ');
}

/** The flag or argument the user typed for an API input field, e.g. `ttlSeconds` → `--ttl`. */
function userName(field: string, call: Invocation | undefined): string | undefined {
  if (!call) return undefined;
  const option = call.spec.options?.find((o) => (o.field ?? optionKey(o.long)) === field);
  if (option) return `--${option.long}`;
  const arg = call.spec.args?.find((a) => (a.field ?? a.name.toLowerCase()) === field);
  if (arg) {
    const value = call.args[arg.name];
    return typeof value === 'string' ? `${arg.name} ${value}` : arg.name;
  }
  return undefined;
}

/**
 * A daemon validation error in the user's words: `ttlSeconds: at most 366 days` becomes
 * `--ttl: at most 366 days`, `key: keys are …` becomes `KEY my-key: keys are …`.
 */
export function inUserWords(err: BellaError, call: Invocation | undefined): string {
  const issues = (err.details as { issues?: Array<{ path?: string[]; message?: string }> } | undefined)?.issues;
  const first = issues?.[0];
  if (!issues || !Array.isArray(first?.path) || !first.path.length || typeof first.message !== 'string') {
    return err.message;
  }
  const field = String(first.path[0]);
  const name = userName(field, call);
  if (!name) return err.message;
  // Messages that repeat the field name ("since must be an ISO 8601 time") drop it.
  const message = first.message.startsWith(`${field} `) ? first.message.slice(field.length + 1) : first.message;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return `${name}: ${message}${more}`;
}

/** The JSON form of an error, for --json: the same shape the daemon uses on the wire. */
function wireJson(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } }, null, 2) + '\n';
}

/**
 * Prints an error the way the CLI promises and returns the exit code: one line on stderr for a
 * user's mistake (exit 1, or 2 for usage), with `--json` also `{ "error": … }` on stdout. A bug
 * gets one line too; BELLA_DEBUG=1 adds its stack.
 */
export function reportError(err: unknown, sink: ErrorSink, json: boolean, call?: Invocation): number {
  if (err instanceof ExitCode) return err.code;
  let code: string;
  let message: string;
  let exit: number;
  if (err instanceof UsageError) {
    code = 'invalid_argument';
    message = err.message;
    exit = EXIT.usage;
  } else if (isExpectedError(err)) {
    code = err.code;
    message = inUserWords(err, call);
    exit = EXIT.error;
  } else {
    const e = err instanceof Error ? err : new Error(String(err));
    code = 'internal';
    message = `${e.message || e.name} (a bug in bella: rerun with BELLA_DEBUG=1 for details)`;
    exit = EXIT.error;
    if (sink.env.BELLA_DEBUG) sink.stderr(`${e.stack ?? e.message}\n`);
  }
  // The message may quote what a user typed: never let it drive the terminal.
  const text = oneLine(message);
  sink.stderr(`error: ${escapeControls(text)}\n`);
  if (json) sink.stdout(wireJson(code, text));
  return exit;
}
