import { Command, CommanderError } from 'commander';
import { BellaError } from '../api/errors';
import { Cli, ExitCode, UsageError, type CliEnvironment } from './context';
import { registerDaemon } from './daemon';
import { registerProjects } from './projects';
import { registerEnvironments } from './environments';
import { registerSecrets } from './secrets';
import { registerLeases } from './leases';
import { registerIssue } from './issue';
import { registerRun } from './run';
import { registerAudit } from './audit';
import { registerContext } from './context-init';
import { registerNotifications } from './notifications';
import pkg from '../../package.json' with { type: 'json' };

/** Exit codes of the CLI. */
export const EXIT = { ok: 0, error: 1, usage: 2 } as const;

function oneLine(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ');
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function configureErrors(cmd: Command): void {
  cmd.configureOutput({
    ...cmd.configureOutput(),
    outputError: (str, write) => {
      // One line per error, so scripts and people see exactly what went wrong.
      const line = oneLine(str).replace(/^error:\s*/i, '');
      write(`error: ${line} (see \`${commandPath(cmd)} --help\`)\n`);
    },
  });
  for (const sub of cmd.commands) configureErrors(sub);
}

/** Builds the `bella` program over a CLI environment. */
export function createProgram(io: CliEnvironment): { program: Command; cli: Cli } {
  const program = new Command('bella');
  const cli = new Cli(program, io);
  program
    .description('bella: short-lived, scoped, audited access to secrets')
    .version(pkg.version, '-V, --version', 'print the bella version')
    .option('--home <dir>', 'data directory (default: BELLA_HOME or the per-OS default)')
    .option('--socket <path>', 'daemon socket (default: BELLA_SOCKET or <home>/run/bella.sock)')
    .option('--json', 'machine-readable JSON output on stdout')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showSuggestionAfterError(true)
    .exitOverride();

  registerDaemon(program, cli);
  registerProjects(program, cli);
  registerEnvironments(program, cli);
  registerSecrets(program, cli);
  registerLeases(program, cli);
  registerIssue(program, cli);
  registerRun(program, cli);
  registerAudit(program, cli);
  registerContext(program, cli);
  registerNotifications(program, cli);
  configureErrors(program);
  return { program, cli };
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: string[], io: CliEnvironment): Promise<number> {
  const { program, cli } = createProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    return reportError(err, io);
  } finally {
    cli.close();
  }
}

/** Prints an error the way the CLI promises (one line for a user's mistake) and returns the exit code. */
export function reportError(err: unknown, io: Pick<CliEnvironment, 'stderr'>): number {
  if (err instanceof ExitCode) return err.code;
  if (err instanceof CommanderError) {
    // Commander already printed its message (one line, see configureErrors).
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
    return EXIT.usage;
  }
  if (err instanceof UsageError) {
    io.stderr(`error: ${oneLine(err.message)}\n`);
    return EXIT.usage;
  }
  if (err instanceof BellaError && err.expected) {
    io.stderr(`error: ${oneLine(err.message)}\n`);
    return EXIT.error;
  }
  // Anything else is a bug: keep the stack so it can be reported.
  const e = err instanceof Error ? err : new Error(String(err));
  io.stderr(`error: ${oneLine(e.message)}\n${e.stack ?? ''}\n`);
  return EXIT.error;
}
