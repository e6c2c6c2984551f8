// The command-line framework: command tables, their parser, help and Markdown reference. It knows
// nothing of bella (lint keeps it so): the program that runs a table (daemon/cli/program.ts) gives
// it its commands, its global options and what an action receives.

/**
 * What completion offers for an argument or an option's value: a name the program's completion
 * understands (bella's: `projects`, `environments`, `keys`, `leases`, `files`, `shells`).
 */
export type CompletionSource = string;

/** One option of a command, e.g. `-p, --project <slug>`. */
export interface OptionSpec {
  /** Long name without dashes (`project`); the parsed value is stored under its camelCase form. */
  long: string;
  /** One-letter short name without the dash (`p`). */
  short?: string;
  /** Name of the value shown in help (`slug`); absent for a flag that takes no value. */
  value?: string;
  description: string;
  /** The only values allowed (compared case-insensitively, stored as listed). */
  choices?: readonly string[];
  /** Turns the text into the value; throws a UsageError naming the option. */
  parse?: (text: string) => unknown;
  required?: boolean;
  /** Repeated uses are concatenated (for list values) instead of the last one winning. */
  repeatable?: boolean;
  /** The API input field the option becomes, when it is not the camelCase long name (`ttlSeconds`). */
  field?: string;
  complete?: CompletionSource;
}

/** One positional argument of a command. */
export interface ArgSpec {
  /** Name in help and errors (`KEY`). */
  name: string;
  description: string;
  optional?: boolean;
  /** Takes every remaining argument. */
  variadic?: boolean;
  /** The API input field it becomes (for daemon errors), e.g. `key`. */
  field?: string;
  complete?: CompletionSource;
}

/** A command, or a group of commands (`leases`), as the parser, help, docs and completion see it. */
export interface CommandSpec {
  name: string;
  aliases?: readonly string[];
  /** One line, lower case, no full stop: shown in lists and as the first line of help. */
  summary: string;
  /** More help text, shown after the summary. */
  details?: string;
  args?: readonly ArgSpec[];
  options?: readonly OptionSpec[];
  /** Command lines that work as written (a test runs them). */
  examples?: readonly string[];
  /** Options end at the first argument, so `bella run node -e 0` passes `-e` on to node. */
  passThrough?: boolean;
  /** Left out of help, docs and completion (internal helpers such as `__complete`). */
  hidden?: boolean;
  subcommands?: readonly CommandSpec[];
  /** What the command does; a group has none. */
  action?: CommandAction;
}

/**
 * What a command does with its parsed command line. The framework never calls it: the program
 * does, with a context of its own (bella's `CliSession`), so the context is typed there (bella's
 * `Action`) and any action fits the table.
 */
export type CommandAction = (context: never, call: Invocation) => Promise<void>;

/** A command table and the options around it, as the parser, help and docs read them. */
export interface Program {
  /** The root command; its name starts every command line (`bella`). */
  root: CommandSpec;
  /** Options every command takes. `--help` and `--json` are understood by the parser itself. */
  globalOptions: readonly OptionSpec[];
  /** Options of the root command only (`--version`, understood by the parser). */
  rootOptions: readonly OptionSpec[];
}

/** A parsed command line, ready for its action. */
export interface Invocation {
  /** The program it was parsed against. */
  program: Program;
  /** Command names from the root, e.g. `['leases', 'issue']`. */
  path: readonly string[];
  spec: CommandSpec;
  args: Record<string, string | string[] | undefined>;
  opts: Record<string, unknown>;
  /** camelCase names of the options given on the command line (not defaults). */
  given: ReadonlySet<string>;
}

/** The camelCase key an option's value is stored under: `warn-before` → `warnBefore`. */
export function optionKey(long: string): string {
  return long.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** How an option is written in help and errors: `-p, --project <slug>`. */
export function optionFlags(o: OptionSpec): string {
  const value = o.value ? ` <${o.value}>` : '';
  return `${o.short ? `-${o.short}, ` : ''}--${o.long}${value}`;
}
