import { spawn } from 'node:child_process';
import os from 'node:os';
import type { Command } from 'commander';
import { BellaError } from '../api/errors';
import { ExitCode, UsageError, type Cli } from './context';

/** `bella run -- CMD ARGS…`: runs CMD with the token's secrets added to its environment. */
export function registerRun(program: Command, cli: Cli): void {
  program
    .command('run')
    .description("run a command with the token's secrets in its environment (exit code and signals passed through)")
    .argument('<command...>', 'the command and its arguments, after --')
    .option('--token <bax-token>', 'the lease token (default: BELLA_TOKEN)')
    .usage('[--token bax-…] -- CMD ARGS…')
    .action(async (command: string[], opts: { token?: string }) => {
      const token = cli.token(opts.token);
      if (!token) throw new UsageError('no token: pass --token bax-… or set BELLA_TOKEN');
      const res = await cli.call('readSecrets', {}, { token });
      cli.close();
      const env: NodeJS.ProcessEnv = { ...cli.io.env, ...res.secrets };
      // The child gets the secrets, not the token: it cannot read more than it was handed.
      delete env.BELLA_TOKEN;
      const [file, ...args] = command as [string, ...string[]];
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn(file, args, { stdio: 'inherit', env, cwd: cli.io.cwd });
        const forward = (signal: NodeJS.Signals) => child.kill(signal);
        process.on('SIGINT', forward);
        process.on('SIGTERM', forward);
        const done = () => {
          process.off('SIGINT', forward);
          process.off('SIGTERM', forward);
        };
        child.on('error', (err: NodeJS.ErrnoException) => {
          done();
          if (err.code === 'ENOENT') {
            cli.note(`error: cannot run ${file}: command not found`);
            resolve(127);
          } else if (err.code === 'EACCES') {
            cli.note(`error: cannot run ${file}: permission denied`);
            resolve(126);
          } else reject(new BellaError('internal', `cannot run ${file}: ${err.message}`));
        });
        child.on('exit', (exitCode, signal) => {
          done();
          if (signal) resolve(128 + (os.constants.signals[signal] ?? 0));
          else resolve(exitCode ?? 0);
        });
      });
      if (code !== 0) throw new ExitCode(code);
    });
}
