import { UsageError } from './errors';
import { optionFlags, optionKey, type CommandSpec, type Invocation, type OptionSpec, type Program } from './spec';

/**
 * The global options given, by camelCase name: a value option's text, `true` for a flag. `json`
 * is set by `--json` and by `-o json` alike; `help` and `version` are not stored.
 */
export type GlobalValues = { json?: true } & Record<string, string | true>;

/** What a command line asks for. */
export type Parsed =
  | { kind: 'run'; call: Invocation; globals: GlobalValues }
  | { kind: 'help'; chain: readonly CommandSpec[]; globals: GlobalValues }
  | { kind: 'version'; globals: GlobalValues };

/** Edit distance (Levenshtein, with transpositions), for "did you mean". */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** The closest of `candidates` to `typed`, if one is close enough to be a typo. */
export function closest(typed: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const dist = c.startsWith(typed) && typed.length >= 3 ? 0.5 : distance(typed, c);
    if (dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  const limit = Math.max(1, Math.min(2, Math.floor(typed.length / 3)));
  return bestDistance <= limit ? best : undefined;
}

/** `bella leases issue`, for messages: the root's name, then the commands. */
export function commandName(chain: readonly CommandSpec[]): string {
  return chain.map((c) => c.name).join(' ');
}

function seeHelp(chain: readonly CommandSpec[]): string {
  return `(see \`${commandName(chain)} --help\`)`;
}

function findSub(spec: CommandSpec, name: string): CommandSpec | undefined {
  return spec.subcommands?.find((c) => c.name === name || c.aliases?.includes(name));
}

/** The commands named by `names` from the root (for `bella help leases issue`). */
export function resolveChain(root: CommandSpec, names: readonly string[]): CommandSpec[] {
  const chain = [root];
  for (const name of names) {
    const current = chain[chain.length - 1] as CommandSpec;
    const sub = findSub(current, name);
    if (!sub) throw unknownCommand(chain, name);
    chain.push(sub);
  }
  return chain;
}

function unknownCommand(chain: readonly CommandSpec[], name: string): UsageError {
  const current = chain[chain.length - 1] as CommandSpec;
  const names = (current.subcommands ?? []).filter((c) => !c.hidden).map((c) => c.name);
  const guess = closest(name, names);
  const where = chain.length > 1 ? ` for ${commandName(chain)}` : '';
  return new UsageError(
    `unknown command ${name}${where} ${guess ? `(did you mean ${[commandName(chain), guess].join(' ')}?)` : seeHelp(chain)}`,
  );
}

function choiceValue(option: OptionSpec, text: string): string {
  const choices = option.choices as readonly string[];
  const match = choices.find((c) => c.toLowerCase() === text.toLowerCase());
  if (match) return match;
  const guess = closest(text, choices);
  throw new UsageError(
    `--${option.long} must be one of ${choices.join(', ')}, not '${text}'${guess ? ` (did you mean ${guess}?)` : ''}`,
  );
}

/** Turns argv (without node and script) into what it asks for; throws UsageError for a mistake. */
export function parseArgv(program: Program, argv: readonly string[]): Parsed {
  const { root, globalOptions, rootOptions } = program;
  const chain: CommandSpec[] = [root];
  const globals: GlobalValues = {};
  const opts: Record<string, unknown> = {};
  const given = new Set<string>();
  const positionals: string[] = [];
  let help = false;
  let version = false;
  let rest = false;

  const current = () => chain[chain.length - 1] as CommandSpec;
  const available = (): OptionSpec[] => [
    ...(current().options ?? []),
    ...globalOptions,
    ...(chain.length === 1 ? rootOptions : []),
  ];

  const setOption = (option: OptionSpec, raw: string | undefined): void => {
    const key = optionKey(option.long);
    if (globalOptions.includes(option) || rootOptions.includes(option)) {
      if (key === 'help') help = true;
      else if (key === 'version') version = true;
      else globals[key] = raw ?? true;
      return;
    }
    let value: unknown = true;
    if (option.value !== undefined) {
      const text = raw as string;
      value = option.choices ? choiceValue(option, text) : option.parse ? option.parse(text) : text;
    }
    if (option.repeatable && Array.isArray(value) && Array.isArray(opts[key])) {
      value = [...(opts[key] as unknown[]), ...value];
    }
    opts[key] = value;
    given.add(key);
  };

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (rest) {
      positionals.push(token);
      continue;
    }
    if (token === '--') {
      rest = true;
      continue;
    }
    const isOption = token.startsWith('-') && token !== '-' && !/^-\d/.test(token);
    if (isOption && !(current().passThrough && positionals.length > 0)) {
      const long = token.startsWith('--');
      const eq = long ? token.indexOf('=') : -1;
      const name = long ? token.slice(2, eq >= 0 ? eq : undefined) : token.slice(1, 2);
      const option = available().find((o) => (long ? o.long === name : o.short === name));
      if (!option) {
        const shown = long ? `--${name}` : token.slice(0, 2);
        const longNames = available().map((o) => `--${o.long}`);
        const guess = long ? closest(shown, longNames) : undefined;
        throw new UsageError(`unknown option ${shown} ${guess ? `(did you mean ${guess}?)` : seeHelp(chain)}`);
      }
      let raw: string | undefined;
      if (option.value !== undefined) {
        if (eq >= 0) raw = token.slice(eq + 1);
        else if (!long && token.length > 2) raw = token.slice(2);
        else if (i + 1 < argv.length) raw = argv[++i];
        else throw new UsageError(`${optionFlags(option)} needs a value ${seeHelp(chain)}`);
      } else if (eq >= 0 || (!long && token.length > 2)) {
        throw new UsageError(`--${option.long} takes no value ${seeHelp(chain)}`);
      }
      setOption(option, raw);
      continue;
    }
    const spec = current();
    if (spec.subcommands && positionals.length === 0) {
      if (chain.length === 1 && token === 'help') {
        const names = argv.slice(i + 1).filter((a) => !a.startsWith('-'));
        return { kind: 'help', chain: resolveChain(root, names), globals };
      }
      const sub = findSub(spec, token);
      if (!sub) throw unknownCommand(chain, token);
      chain.push(sub);
      continue;
    }
    positionals.push(token);
  }

  if (help) return { kind: 'help', chain, globals };
  if (version && chain.length === 1) return { kind: 'version', globals };
  const spec = current();
  if (!spec.action) return { kind: 'help', chain, globals };

  const args: Invocation['args'] = {};
  const specs = spec.args ?? [];
  let next = 0;
  for (const arg of specs) {
    if (arg.variadic) {
      args[arg.name] = positionals.slice(next);
      next = positionals.length;
      if (!arg.optional && (args[arg.name] as string[]).length === 0) {
        throw new UsageError(`${arg.name} is required: ${usageLine(chain)}`);
      }
      continue;
    }
    const value = positionals[next];
    if (value === undefined) {
      if (!arg.optional) throw new UsageError(`${arg.name} is required: ${usageLine(chain)}`);
    } else {
      args[arg.name] = value;
      next++;
    }
  }
  if (next < positionals.length) {
    throw new UsageError(`unexpected argument '${positionals[next]}' for ${commandName(chain)}: ${usageLine(chain)}`);
  }
  for (const option of spec.options ?? []) {
    if (option.required && !given.has(optionKey(option.long))) {
      throw new UsageError(`${optionFlags(option)} is required: ${option.description}`);
    }
  }
  const output = opts.output;
  if (typeof output === 'string') {
    if (globals.json && output !== 'json') {
      throw new UsageError(`conflicting -o ${output} and --json: use one of them`);
    }
    if (output === 'json') globals.json = true;
  }
  return {
    kind: 'run',
    call: { program, path: chain.slice(1).map((c) => c.name), spec, args, opts, given },
    globals,
  };
}

/** `bella leases issue [options]`, `bella secrets get KEY [options]`. */
export function usageLine(chain: readonly CommandSpec[]): string {
  const spec = chain[chain.length - 1] as CommandSpec;
  const parts = [commandName(chain)];
  if (spec.subcommands && !spec.action) parts.push('<command>');
  const options = (spec.options ?? []).length > 0 ? ['[options]'] : [];
  // Options of a pass-through command must come before what it runs.
  if (spec.passThrough) parts.push(...options, '[--]');
  for (const arg of spec.args ?? []) {
    const name = arg.variadic ? `${arg.name}…` : arg.name;
    parts.push(arg.optional ? `[${name}]` : name);
  }
  if (!spec.passThrough) parts.push(...options);
  return parts.join(' ');
}

/** True when argv asks for JSON (looked at before parsing, so a parse error is JSON too). */
export function wantsJson(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return false;
    if (a === '--json' || a === '--output=json' || a === '-ojson') return true;
    if ((a === '-o' || a === '--output') && argv[i + 1] === 'json') return true;
  }
  return false;
}
