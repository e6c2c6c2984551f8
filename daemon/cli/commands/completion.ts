import { UsageError } from '../framework/errors';
import { optionKey, type CommandSpec, type CompletionSource, type OptionSpec, type Program } from '../framework/spec';
import type { Action, CliSession } from '../session';

const SCRIPTS: Record<string, string> = {
  bash: `# bella completion for bash: source <(bella completion bash)
_bella() {
  local IFS=$'\\n'
  COMPREPLY=($(bella __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
  return 0
}
complete -o default -F _bella bella
`,
  zsh: `#compdef bella
# bella completion for zsh: source <(bella completion zsh)
_bella() {
  local -a candidates
  candidates=("\${(@f)$(bella __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if (( \${#candidates} )) && [[ -n "\${candidates[1]}" ]]; then
    compadd -- "\${candidates[@]}"
  else
    _files
  fi
}
compdef _bella bella
`,
  fish: `# bella completion for fish: bella completion fish > ~/.config/fish/completions/bella.fish
function __bella_complete
    set -l words (commandline -opc) (commandline -ct)
    bella __complete -- $words[2..-1] 2>/dev/null
end
complete -c bella -f -a '(__bella_complete)'
`,
};

/** `bella completion bash|zsh|fish`. */
export const script: Action = async (cli, { args }) => {
  const shell = args.SHELL as string;
  const text = SCRIPTS[shell];
  if (!text) throw new UsageError(`no completion for ${shell}: choose bash, zsh or fish`);
  cli.io.stdout(text);
};

function findOption(program: Program, spec: CommandSpec, word: string): OptionSpec | undefined {
  const options = [...(spec.options ?? []), ...program.globalOptions];
  if (word.startsWith('--')) return options.find((o) => o.long === word.slice(2).split('=')[0]);
  return options.find((o) => o.short !== undefined && word === `-${o.short}`);
}

/** The completion sources the command table may name (`complete:`); a test checks it names no other. */
export const COMPLETION_SOURCES: readonly CompletionSource[] = [
  'projects',
  'environments',
  'keys',
  'leases',
  'files',
  'shells',
];

/** Names from the daemon for a completion source; nothing when no daemon answers (never starts one). */
async function dynamic(cli: CliSession, source: CompletionSource, given: Record<string, string>): Promise<string[]> {
  if (source === 'shells') return Object.keys(SCRIPTS);
  if (source === 'files') return [];
  try {
    const client = await cli.existing();
    if (source === 'projects') return (await client.call('listProjects', {})).projects.map((p) => p.slug);
    const ref = cli.optionalEnvironmentRef(given);
    if (!ref.project) return [];
    if (source === 'environments') {
      return (await client.call('listEnvironments', { project: ref.project })).environments.map((e) => e.slug);
    }
    if (source === 'leases') {
      return (await client.call('listLeases', { limit: 200 })).leases.map((l) => l.id);
    }
    if (!ref.environment) return [];
    return (await client.call('listSecrets', { project: ref.project, environment: ref.environment })).secrets.map(
      (s) => s.key,
    );
  } catch {
    return [];
  }
}

/** What can follow `words` (the last being the partial word) in `program`: commands, options, or values. */
export async function completionsFor(cli: CliSession, program: Program, words: readonly string[]): Promise<string[]> {
  const current = words[words.length - 1] ?? '';
  const before = words.slice(0, -1);
  let spec = program.root;
  let positionals = 0;
  const given: Record<string, string> = {};
  let pending: OptionSpec | undefined;
  for (const word of before) {
    if (pending) {
      given[optionKey(pending.long)] = word;
      pending = undefined;
      continue;
    }
    if (word.startsWith('-')) {
      const option = findOption(program, spec, word);
      if (option?.value !== undefined && !word.includes('=')) pending = option;
      continue;
    }
    const sub =
      positionals === 0 ? spec.subcommands?.find((c) => c.name === word || c.aliases?.includes(word)) : undefined;
    if (sub) spec = sub;
    else positionals++;
  }
  let candidates: string[];
  if (pending) {
    candidates = pending.choices
      ? [...pending.choices]
      : pending.complete
        ? await dynamic(cli, pending.complete, given)
        : [];
  } else if (current.startsWith('-')) {
    candidates = [...(spec.options ?? []), ...program.globalOptions].map((o) => `--${o.long}`);
  } else if (spec.subcommands && positionals === 0) {
    candidates = spec.subcommands.filter((c) => !c.hidden).map((c) => c.name);
  } else {
    const arg = spec.args?.[Math.min(positionals, (spec.args?.length ?? 1) - 1)];
    candidates = arg?.complete ? await dynamic(cli, arg.complete, given) : [];
  }
  return candidates.filter((c) => c.startsWith(current));
}

/** `bella __complete -- WORDS…`: one candidate per line, for the completion scripts. */
export const candidates: Action = async (cli, { args, program }) => {
  const found = await completionsFor(cli, program, (args.WORDS as string[] | undefined) ?? ['']);
  if (found.length) cli.io.stdout(found.join('\n') + '\n');
};

/** The `bella completion` command, as the parser, help, completion and docs/cli.md read it. */
export const completionCommand: CommandSpec = {
  name: 'completion',
  summary: 'print a shell completion script (commands, options, and names from the daemon)',
  args: [{ name: 'SHELL', description: 'bash, zsh or fish', complete: 'shells' }],
  examples: ['source <(bella completion bash)', 'bella completion fish > ~/.config/fish/completions/bella.fish'],
  action: script,
};

/** The `bella __complete` command, as the parser, help, completion and docs/cli.md read it. */
export const completeCommand: CommandSpec = {
  name: '__complete',
  summary: 'candidates for the word being completed (used by the completion scripts)',
  hidden: true,
  args: [
    { name: 'WORDS', description: 'the words so far, the last one being completed', optional: true, variadic: true },
  ],
  passThrough: true,
  action: candidates,
};
