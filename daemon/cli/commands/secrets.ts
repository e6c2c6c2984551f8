import { rotateCommand } from './secret-rotate';
import fs from 'node:fs';
import path from 'node:path';
import { dotenvProblemText, type DotenvProblem } from '../../api/dotenv';
import { BellaError, isBellaError } from '../../api/errors';
import { escapeControls } from '../../base/common/terminal-text';
import { formatTime, mask } from '../format';
import { ask, confirmOnTerminal, readAll } from '../prompt';
import { invalidKey, keyProblem } from '../secret-key';
import { nulError, type Action, type CliSession } from '../session';
import { renderTable } from '../table';
import { explicitRef, hasToken, readLeaseSecrets, requireToken, connectTokenPlane } from '../token-plane';
import { historyCommands, purge } from './secret-history';
import { environmentOption, projectOption, tokenOptions, wideOption } from './shared-options';
import type { CommandSpec } from '../framework/spec';

type Opts = {
  project?: string;
  environment?: string;
  token?: string;
  showValues?: boolean;
  dryRun?: boolean;
  skipInvalid?: boolean;
  empty?: boolean;
  yes?: boolean;
  purge?: boolean;
  wide?: boolean;
};

/** Reads a secret value from stdin: typed without echo on a terminal, else piped (one trailing newline dropped). */
async function valueFromStdin(cli: CliSession, key: string): Promise<string> {
  if (cli.io.stdin.isTTY) return ask(cli.io, `value of ${key}: `, true);
  const text = await readAll(cli.io.stdin);
  return text.replace(/\r?\n$/, '');
}

/** A secret value as printed on its own: exact when captured or piped, terminal-safe on a terminal. */
export function valueForStdout(cli: CliSession, value: string): string {
  return cli.io.stdoutIsTTY ? escapeControls(value, '\n\t') : value;
}

/** `bella secrets set KEY [VALUE]`. */
export const set: Action = async (cli, { args, opts }) => {
  const key = args.KEY as string;
  const problem = await keyProblem(key);
  if (problem) throw invalidKey(key, problem);
  const o = opts as Opts;
  const ref = cli.environmentRef(o);
  const given = args.VALUE as string | undefined;
  const value = given ?? (await valueFromStdin(cli, key));
  // `secrets set K < /dev/null`, an empty pipe or a bare Enter is far likelier a mistake than meant.
  if (given === undefined && value === '' && !o.empty) {
    throw new BellaError(
      'invalid_argument',
      `stdin gave an empty value for ${key}: nothing was stored; pass --empty to store an empty value`,
    );
  }
  if (value.includes('\0')) throw nulError(key);
  const res = await cli.call('setSecret', { project: ref.project, environment: ref.environment, key, value });
  cli.print(res, () => `${res.created ? 'created' : 'updated'} ${key} in ${ref.project}/${ref.environment}`);
};

/** `bella secrets get KEY`: as the owner, or with a token (which never overrides -p/-e). */
export const get: Action = async (cli, { args, opts }) => {
  const o = opts as Opts;
  const key = args.KEY as string;
  if (hasToken(cli, opts)) {
    const token = await requireToken(cli, opts);
    const plane = await connectTokenPlane(cli, opts);
    const res = await readLeaseSecrets(plane, token, { named: explicitRef(o), keys: [key] });
    const value = res.secrets[key];
    if (value === undefined) {
      throw new BellaError('permission_denied', `${key} is not in the scope of lease ${res.leaseId}`);
    }
    cli.print(res, () => valueForStdout(cli, value));
    return;
  }
  const ref = cli.environmentRef(o);
  const res = await cli.call('getSecret', { project: ref.project, environment: ref.environment, key });
  cli.print(res, () => valueForStdout(cli, res.secret.value));
};

/** `bella secrets list [--show-values]`. */
export const list: Action = async (cli, { opts }) => {
  const o = opts as Opts;
  const ref = cli.environmentRef(o);
  const res = await cli.call('listSecrets', {
    project: ref.project,
    environment: ref.environment,
    reveal: o.showValues === true,
  });
  cli.print(res, () =>
    res.secrets.length === 0
      ? `no secrets in ${ref.project}/${ref.environment} yet: add one with \`bella secrets set KEY\``
      : renderTable(
          [{ header: 'KEY', min: 16 }, { header: 'VALUE' }, { header: 'UPDATED', keep: true }],
          res.secrets.map((s) => [s.key, o.showValues ? (s.value ?? '') : mask(s.value), formatTime(s.updatedAt)]),
          { width: o.wide ? Infinity : cli.width, colour: cli.colour },
        ),
  );
};

/** `bella secrets delete KEY [--purge]`: to the trash (30 days), or for good with --purge. */
export const remove: Action = async (cli, { args, opts }) => {
  const o = opts as Opts;
  const key = args.KEY as string;
  if (o.purge) return purge(cli, key, o);
  const ref = cli.environmentRef(o);
  await confirmOnTerminal(
    cli.io,
    o.yes,
    key,
    () =>
      `this deletes ${key} from ${ref.project}/${ref.environment}: leases stop reading it; it stays 30 days in the trash (bella secrets restore ${key}).`,
  );
  const res = await cli.call('deleteSecret', { project: ref.project, environment: ref.environment, key });
  cli.print(
    res,
    () =>
      `deleted ${res.deleted} from ${ref.project}/${ref.environment}: in the trash for 30 days (bella secrets restore ${res.deleted})`,
  );
};

/**
 * `bella secrets push FILE [--dry-run] [--skip-invalid]`: the daemon parses the file; every
 * problem is named with its line, and refuses the file unless --skip-invalid (then listed as skipped).
 */
export const push: Action = async (cli, { args, opts }) => {
  const o = opts as Opts;
  const file = args.FILE as string;
  const ref = cli.environmentRef(o);
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(cli.io.cwd, file), 'utf8');
  } catch (err) {
    throw new BellaError(
      'invalid_argument',
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const res = await cli
    .call('importSecrets', {
      project: ref.project,
      environment: ref.environment,
      dotenv: text,
      dryRun: o.dryRun === true,
      skipInvalid: o.skipInvalid === true,
    })
    .catch((err: unknown) => {
      throw namedAfter(err, file);
    });
  cli.print(res, () => {
    const names = (keys: string[]) => (keys.length ? keys.join(', ') : '-');
    return [
      `${res.dryRun ? 'would push' : 'pushed'} ${file} to ${ref.project}/${ref.environment}`,
      `added      ${names(res.added)}`,
      `updated    ${names(res.updated)}`,
      `unchanged  ${names(res.unchanged)}`,
      ...res.problems.map((p) => `${res.dryRun ? 'problem ' : 'skipped '}   ${cli.safe(dotenvProblemText(p, file))}`),
      ...(res.dryRun ? ['dry run: nothing was changed'] : []),
    ].join('\n');
  });
};

/** The daemon's refusal of a `.env` text, naming `file` and its first problem. */
function namedAfter(err: unknown, file: string): unknown {
  const problems = isBellaError(err)
    ? (err.details as { problems?: DotenvProblem[] } | undefined)?.problems
    : undefined;
  if (!problems?.length) return err;
  const more =
    problems.length > 1 ? ` (and ${problems.length - 1} more: see \`bella secrets push ${file} --dry-run\`)` : '';
  const skip = problems.some((p) => p.kind === 'empty') ? '' : ', or pass --skip-invalid to import the other lines';
  return new BellaError(
    'invalid_argument',
    `${dotenvProblemText(problems[0] as DotenvProblem, file)}${more}: nothing was imported; fix the file${skip}`,
    isBellaError(err) ? err.details : undefined,
  );
}

/** The `bella secrets` command, as the parser, help, completion and docs/cli.md read it. */
export const secretsCommand: CommandSpec = {
  name: 'secrets',
  summary: 'manage the secrets of an environment',
  subcommands: [
    {
      name: 'set',
      summary: 'create or replace a secret; without VALUE it is read from stdin (kept out of shell history)',
      args: [
        { name: 'KEY', description: 'the key, e.g. DATABASE_URL', field: 'key' },
        { name: 'VALUE', description: 'the value (omit to read it from stdin)', optional: true, field: 'value' },
      ],
      options: [
        projectOption(),
        environmentOption(),
        { long: 'empty', description: 'store an empty value when stdin gives nothing (refused otherwise)' },
      ],
      examples: ['bella secrets set DATABASE_URL -p my-api -e production < db-url.txt'],
      action: set,
    },
    {
      name: 'get',
      summary: 'print the value of one secret',
      args: [{ name: 'KEY', description: 'the key', field: 'key', complete: 'keys' }],
      options: [projectOption(), environmentOption(), ...tokenOptions],
      action: get,
    },
    {
      name: 'list',
      summary: 'list the secrets of an environment (values masked unless --show-values)',
      options: [
        projectOption(),
        environmentOption(),
        { long: 'show-values', description: 'show the values (the read is audited)' },
        wideOption,
      ],
      action: list,
    },
    {
      name: 'delete',
      summary: 'move a secret to the trash (kept 30 days), or destroy it for good with --purge',
      details:
        'On a terminal it asks for the key to be typed back unless --yes; scripts proceed. ' +
        'A deleted secret reads as missing everywhere (leases included) and can be brought back with ' +
        '`bella secrets restore KEY` for 30 days. --purge destroys the value, its trash entry and its history.',
      args: [{ name: 'KEY', description: 'the key', field: 'key', complete: 'keys' }],
      options: [
        projectOption(),
        environmentOption(),
        { long: 'purge', description: 'destroy it for good: value, trash entry and every earlier version' },
        { long: 'yes', description: 'do not ask for confirmation on a terminal' },
      ],
      action: remove,
    },
    {
      name: 'push',
      summary: 'set every secret of a .env file',
      details:
        'A line that is not KEY=value, or a key or value bella refuses, is named with its line number and ' +
        'the file is refused as a whole, unless --skip-invalid (then the other lines are imported and the ' +
        'skipped ones listed). --dry-run lists every problem.',
      args: [{ name: 'FILE', description: 'the .env file', complete: 'files' }],
      options: [
        projectOption(),
        environmentOption(),
        { long: 'dry-run', description: 'only show what would change' },
        { long: 'skip-invalid', description: 'import the valid lines and list the invalid ones as skipped' },
      ],
      action: push,
    },
    ...historyCommands,
    rotateCommand,
  ],
};
