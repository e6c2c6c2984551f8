import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { BellaError } from '../api/errors';
import { writeFileDurableSync } from '../base/node/files';
import { ask, readAll, type Cli } from './context';
import { DotenvValueError, formatTable, formatTime, mask, toDotenv } from './format';

interface TargetOptions {
  project?: string;
  environment?: string;
}

function targetOptions(cmd: Command): Command {
  return cmd
    .option('-p, --project <slug>', 'the project (default: from .bella)')
    .option('-e, --environment <slug>', 'the environment (default: from .bella)');
}

function tokenOption(cmd: Command): Command {
  return cmd.option('--token <bax-token>', 'read with a lease token instead of as the owner (also BELLA_TOKEN)');
}

/** Reads a secret value from stdin: typed without echo on a terminal, else piped (one trailing newline dropped). */
async function valueFromStdin(cli: Cli, key: string): Promise<string> {
  if (cli.io.stdin.isTTY) return ask(cli.io, `value of ${key}: `, true);
  const text = await readAll(cli.io.stdin);
  return text.replace(/\r?\n$/, '');
}

/** `bella secrets set|get|list|delete|push` and `bella pull`. */
export function registerSecrets(program: Command, cli: Cli): void {
  const secrets = program.command('secrets').description('manage the secrets of an environment');

  targetOptions(secrets.command('set'))
    .description('create or replace a secret; without VALUE it is read from stdin (keeps it out of shell history)')
    .argument('<key>', 'the key, e.g. DATABASE_URL')
    .argument('[value]', 'the value (omit to read it from stdin)')
    .action(async (key: string, value: string | undefined, opts: TargetOptions) => {
      const ref = cli.environmentRef(opts);
      const secretValue = value ?? (await valueFromStdin(cli, key));
      const res = await cli.call('setSecret', { ...ref, key, value: secretValue });
      cli.print(res, () => `${res.created ? 'created' : 'updated'} ${key} in ${ref.project}/${ref.environment}`);
    });

  tokenOption(targetOptions(secrets.command('get')))
    .description('print the value of one secret')
    .argument('<key>', 'the key')
    .action(async (key: string, opts: TargetOptions & { token?: string }) => {
      const token = cli.token(opts.token);
      if (token) {
        const res = await cli.call('readSecrets', { keys: key }, { token });
        const value = res.secrets[key];
        if (value === undefined) {
          throw new BellaError('permission_denied', `${key} is not in the scope of lease ${res.leaseId}`);
        }
        cli.print(res, () => value);
        return;
      }
      const ref = cli.environmentRef(opts);
      const res = await cli.call('getSecret', { ...ref, key });
      cli.print(res, () => res.secret.value);
    });

  targetOptions(secrets.command('list'))
    .description('list the secrets of an environment (values masked unless --show-values)')
    .option('--show-values', 'show the values (the read is audited)')
    .action(async (opts: TargetOptions & { showValues?: boolean }) => {
      const ref = cli.environmentRef(opts);
      const res = await cli.call('listSecrets', { ...ref, reveal: opts.showValues === true });
      cli.print(res, () =>
        res.secrets.length === 0
          ? `no secrets in ${ref.project}/${ref.environment} yet: add one with \`bella secrets set KEY\``
          : formatTable(
              ['KEY', 'VALUE', 'UPDATED'],
              res.secrets.map((s) => [
                s.key,
                opts.showValues ? (s.value ?? '') : mask(s.value),
                formatTime(s.updatedAt),
              ]),
            ),
      );
    });

  targetOptions(secrets.command('delete'))
    .description('delete a secret')
    .argument('<key>', 'the key')
    .action(async (key: string, opts: TargetOptions) => {
      const ref = cli.environmentRef(opts);
      const res = await cli.call('deleteSecret', { ...ref, key });
      cli.print(res, () => `deleted ${res.deleted} from ${ref.project}/${ref.environment}`);
    });

  targetOptions(secrets.command('push'))
    .description('set every secret of a .env file')
    .argument('<file>', 'the .env file')
    .option('--dry-run', 'only show what would change')
    .action(async (file: string, opts: TargetOptions & { dryRun?: boolean }) => {
      const ref = cli.environmentRef(opts);
      let text: string;
      try {
        text = fs.readFileSync(path.resolve(cli.io.cwd, file), 'utf8');
      } catch (err) {
        throw new BellaError('invalid_argument', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`);
      }
      // Both are CommonJS: in a split bundle their exports arrive on the default export.
      const { default: dotenv } = await import('dotenv');
      const parsed = dotenv.parse(text);
      if (Object.keys(parsed).length === 0) {
        throw new BellaError('invalid_argument', `${file} holds no KEY=value lines`);
      }
      const res = await cli.call('importSecrets', { ...ref, secrets: parsed, dryRun: opts.dryRun === true });
      cli.print(res, () => {
        const list = (keys: string[]) => (keys.length ? keys.join(', ') : '-');
        return [
          `${res.dryRun ? 'would push' : 'pushed'} ${file} to ${ref.project}/${ref.environment}`,
          `added      ${list(res.added)}`,
          `updated    ${list(res.updated)}`,
          `unchanged  ${list(res.unchanged)}`,
          ...(res.dryRun ? ['dry run: nothing was changed'] : []),
        ].join('\n');
      });
    });

  tokenOption(targetOptions(program.command('pull')))
    .description('print (or write) every secret of an environment as dotenv, json or yaml')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['dotenv', 'json', 'yaml']))
    .option('--out <file>', 'write to this file (mode 0600) instead of stdout')
    .action(async (opts: TargetOptions & { token?: string; output?: string; out?: string }) => {
      const token = cli.token(opts.token);
      let values: Record<string, string>;
      let where: string;
      if (token) {
        const res = await cli.call('readSecrets', {}, { token });
        values = res.secrets;
        where = `${res.project}/${res.environment}`;
      } else {
        const ref = cli.environmentRef(opts);
        const res = await cli.call('listSecrets', { ...ref, reveal: true });
        values = Object.fromEntries(res.secrets.map((s) => [s.key, s.value ?? '']));
        where = `${ref.project}/${ref.environment}`;
      }
      const format = opts.output ?? (cli.json ? 'json' : 'dotenv');
      let content: string;
      if (format === 'json') content = JSON.stringify(values, null, 2) + '\n';
      else if (format === 'yaml') {
        const { default: YAML } = await import('yaml');
        content = Object.keys(values).length ? YAML.stringify(values) : '{}\n';
      } else {
        try {
          content = toDotenv(values);
        } catch (err) {
          if (err instanceof DotenvValueError) throw new BellaError('invalid_argument', err.message);
          throw err;
        }
      }
      if (opts.out) {
        const file = path.resolve(cli.io.cwd, opts.out);
        // Written 0600 from creation, atomically: secrets never sit in a world-readable or partial file.
        writeFileDurableSync(file, content);
        const count = Object.keys(values).length;
        if (cli.json) cli.out(JSON.stringify({ file, format, count, environment: where }, null, 2));
        else cli.note(`wrote ${count} secrets of ${where} to ${opts.out} (mode 0600)`);
      } else {
        cli.io.stdout(content);
      }
    });
}
