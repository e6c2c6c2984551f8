import { commandName, usageLine } from './parser';
import { optionFlags, type CommandSpec, type OptionSpec, type Program } from './spec';

function visible(spec: CommandSpec): CommandSpec[] {
  return (spec.subcommands ?? []).filter((c) => !c.hidden);
}

function optionText(o: OptionSpec): string {
  const extra: string[] = [];
  if (o.choices) extra.push(`one of: ${o.choices.join(', ')}`);
  if (o.required) extra.push('required');
  return extra.length ? `${o.description} (${extra.join('; ')})` : o.description;
}

/** Words of `text` in lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function columns(rows: Array<[string, string]>): string[] {
  const width = Math.min(32, Math.max(...rows.map(([left]) => left.length)));
  return rows.map(([left, right]) =>
    left.length > width ? `  ${left}\n  ${' '.repeat(width)}  ${right}` : `  ${left.padEnd(width)}  ${right}`,
  );
}

/** The help text of a command or group, as `--help` and `bella help …` print it. */
export function renderHelp(program: Program, chain: readonly CommandSpec[]): string {
  const spec = chain[chain.length - 1] as CommandSpec;
  const lines = [`Usage: ${usageLine(chain)}`, '', spec.summary];
  if (spec.details) lines.push('', ...wrap(spec.details, 80));
  const subs = visible(spec);
  if (subs.length) {
    lines.push('', 'Commands:', ...columns(subs.map((c) => [c.name, c.summary])));
  }
  if (spec.args?.length) {
    lines.push('', 'Arguments:', ...columns(spec.args.map((a) => [a.name, a.description])));
  }
  const own = [...(spec.options ?? []), ...(chain.length === 1 ? program.rootOptions : [])];
  if (own.length) lines.push('', 'Options:', ...columns(own.map((o) => [optionFlags(o), optionText(o)])));
  lines.push('', 'Global options:', ...columns(program.globalOptions.map((o) => [optionFlags(o), o.description])));
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  if (subs.length) lines.push('', `Run \`${commandName(chain)} COMMAND --help\` for a command's options.`);
  return lines.join('\n') + '\n';
}

/** Prose for Markdown: `<home>` would read as an HTML tag. */
function markdownText(text: string): string {
  return text.replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;'));
}

function markdownCell(text: string): string {
  return markdownText(text).replace(/\|/g, '\\|');
}

function sentence(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

function markdownCommand(chain: readonly CommandSpec[], level: string, out: string[]): void {
  const spec = chain[chain.length - 1] as CommandSpec;
  if (spec.hidden) return;
  out.push(`${level} \`${commandName(chain)}\``, '', markdownText(sentence(spec.summary)), '');
  if (spec.details) out.push(markdownText(spec.details), '');
  if (spec.action) {
    out.push('```', usageLine(chain), '```', '');
    if (spec.args?.length) {
      out.push('| Argument | |', '| --- | --- |');
      for (const a of spec.args) out.push(`| \`${a.name}\` | ${markdownCell(a.description)} |`);
      out.push('');
    }
    if (spec.options?.length) {
      out.push('| Option | |', '| --- | --- |');
      for (const o of spec.options)
        out.push(`| \`${optionFlags(o).replace(/\|/g, '\\|')}\` | ${markdownCell(optionText(o))} |`);
      out.push('');
    }
    if (spec.examples?.length) out.push('Examples:', '', '```sh', ...spec.examples, '```', '');
  }
  for (const sub of visible(spec)) markdownCommand([...chain, sub], '###', out);
}

/** What a Markdown reference says besides the commands. */
export interface ReferencePage {
  /** An HTML comment under the title: where the page comes from. */
  comment: string;
  /** Paragraphs after the global options (e.g. what errors look like). */
  notes: readonly string[];
}

/** The whole command reference as Markdown, generated from the program's command table. */
export function renderMarkdown(program: Program, page: ReferencePage): string {
  const { root } = program;
  const out = [
    `# ${root.name} command reference`,
    '',
    `<!-- ${page.comment} -->`,
    '',
    markdownText(sentence(root.summary)),
    '',
    'Every command also takes these options:',
    '',
    '| Option | |',
    '| --- | --- |',
    ...program.globalOptions.map((o) => `| \`${optionFlags(o)}\` | ${markdownCell(o.description)} |`),
    '',
    ...page.notes.flatMap((note) => [note, '']),
  ];
  for (const command of visible(root)) markdownCommand([root, command], '##', out);
  return out.join('\n').replace(/\n+$/, '\n');
}
