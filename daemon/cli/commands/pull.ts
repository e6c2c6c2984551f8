import path from 'node:path';
import { BellaError } from '../../api/errors';
import { escapeControls } from '../../base/common/terminal-text';
import { toDotenv, toShell, UnwritableValueError } from '../secret-formats';
import { refuseLoaderVariables } from '../loader-variables';
import { explicitRef, hasToken, readLeaseSecrets, requireToken, connectTokenPlane } from '../token-plane';
import type { Action } from '../session';
import { allowEnvOption, environmentOption, projectOption, tokenOptions } from './shared-options';
import type { CommandSpec } from '../framework/spec';

type Format = 'dotenv' | 'shell' | 'json' | 'yaml';
type Opts = { project?: string; environment?: string; output?: Format; out?: string; allowEnv?: string[] };

/** The format `--out FILE` implies by its extension. */
export function formatOfFile(file: string): Format {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  if (ext === '.sh') return 'shell';
  return 'dotenv';
}

async function render(format: Format, values: Record<string, string>): Promise<string> {
  if (format === 'json') return JSON.stringify(values, null, 2) + '\n';
  if (format === 'yaml') {
    const { default: YAML } = await import('yaml');
    return Object.keys(values).length ? YAML.stringify(values) : '{}\n';
  }
  try {
    return format === 'shell' ? toShell(values) : toDotenv(values);
  } catch (err) {
    if (err instanceof UnwritableValueError) throw new BellaError('invalid_argument', err.message);
    throw err;
  }
}

/** What a failed write of `file` means, in one line naming the user's path (never the temp file). */
function writeError(shown: string, err: NodeJS.ErrnoException): BellaError {
  const why: Record<string, string> = {
    ENOENT: 'its directory does not exist',
    ENOTDIR: 'a part of its path is not a directory',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'the file system is read-only',
    ENOSPC: 'the disk is full',
    EISDIR: 'it is a directory',
  };
  return new BellaError('invalid_argument', `cannot write ${shown}: ${why[err.code ?? ''] ?? err.code ?? err.message}`);
}

/**
 * Writes `content` to `file` 0600 and atomically, with the one atomic-write function: secrets
 * never sit in a world-readable or partial file, and a failed write leaves no temp file behind.
 */
export async function writeSecretFile(file: string, shown: string, content: string): Promise<void> {
  const { writeFileDurable } = await import('../../base/node/files');
  try {
    await writeFileDurable(file, content);
  } catch (err) {
    throw writeError(shown, err as NodeJS.ErrnoException);
  }
}

/** `bella pull`: every secret of an environment (or of a token's lease). */
export const pull: Action = async (cli, { opts, given }) => {
  const o = opts as Opts;
  let values: Record<string, string>;
  let where: string;
  if (hasToken(cli, opts)) {
    const token = await requireToken(cli, opts);
    const plane = await connectTokenPlane(cli, opts);
    // A token never overrides an explicit -p/-e: checked before any secret is read.
    const res = await readLeaseSecrets(plane, token, { named: explicitRef(o) });
    values = res.secrets;
    where = `${res.project}/${res.environment}`;
  } else {
    const ref = cli.environmentRef(o);
    const res = await cli.call('listSecrets', { project: ref.project, environment: ref.environment, reveal: true });
    values = Object.fromEntries(res.secrets.map((s) => [s.key, s.value ?? '']));
    where = `${ref.project}/${ref.environment}`;
  }
  const format: Format = given.has('output')
    ? (o.output as Format)
    : o.out
      ? formatOfFile(o.out)
      : cli.json
        ? 'json'
        : 'dotenv';
  // Both are read by shells (`eval`, `set -a; . ./file`): no loader variable unless named.
  if (format === 'shell' || format === 'dotenv')
    refuseLoaderVariables(Object.keys(values), o.allowEnv, `${format} output`);
  const content = await render(format, values);
  if (o.out) {
    await writeSecretFile(path.resolve(cli.io.cwd, o.out), o.out, content);
    const count = Object.keys(values).length;
    if (cli.json)
      cli.out(JSON.stringify({ file: path.resolve(cli.io.cwd, o.out), format, count, environment: where }, null, 2));
    else cli.note(`wrote ${count} secrets of ${where} to ${o.out} as ${format} (mode 0600)`);
    return;
  }
  // On a terminal the text is shown, not used: no value may drive the terminal.
  cli.io.stdout(cli.io.stdoutIsTTY ? escapeControls(content, '\n\t') : content);
};

/** The `bella pull` command, as the parser, help, completion and docs/cli.md read it. */
export const pullCommand: CommandSpec = {
  name: 'pull',
  summary: 'print (or write) every secret of an environment as dotenv, shell, json or yaml',
  details:
    'dotenv output reads back unchanged with both the dotenv library and `set -a; . ./file`; ' +
    '`-o shell` writes `export KEY=\'…\'` lines for `eval "$(bella pull -o shell)"`. ' +
    'With --out the format follows the extension (.json, .yaml/.yml, .sh) unless -o says otherwise.',
  options: [
    projectOption(),
    environmentOption(),
    ...tokenOptions,
    allowEnvOption,
    {
      long: 'output',
      short: 'o',
      value: 'format',
      description: 'output format',
      choices: ['dotenv', 'shell', 'json', 'yaml'],
    },
    {
      long: 'out',
      value: 'file',
      description: 'write to this file (mode 0600, atomically) instead of stdout',
      complete: 'files',
    },
  ],
  examples: ['bella pull -p my-api -e production --out .env', 'eval "$(bella pull -p my-api -e production -o shell)"'],
  action: pull,
};
