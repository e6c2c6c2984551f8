import { ROOT } from './definitions';
import { reportError } from './errors';
import { EXIT } from './framework/errors';
import { renderHelp } from './framework/help';
import { parseArgv, wantsJson } from './framework/parser';
import type { Invocation, OptionSpec, Program } from './framework/spec';
import { CliSession, type Action, type CliIO, type GlobalOptions } from './session';
import { VERSION } from './version';

/** Options every bella command takes. */
const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { long: 'home', value: 'dir', description: 'data directory (default: BELLA_HOME, else the per-OS default)' },
  { long: 'socket', value: 'path', description: 'daemon socket (default: BELLA_SOCKET, else <home>/run/bella.sock)' },
  { long: 'json', description: 'machine-readable JSON on stdout, errors included' },
  { long: 'help', short: 'h', description: 'show help for the command' },
];

/** `bella`: the command table (definitions.ts) and the options around it. */
export const PROGRAM: Program = {
  root: ROOT,
  globalOptions: GLOBAL_OPTIONS,
  rootOptions: [{ long: 'version', short: 'V', description: 'print the bella version (with --json: as JSON)' }],
};

/** Runs `bella` with `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  let json = wantsJson(argv);
  let call: Invocation | undefined;
  let session: CliSession | undefined;
  try {
    const parsed = parseArgv(PROGRAM, argv);
    json = parsed.globals.json === true;
    if (parsed.kind === 'help') {
      io.stdout(renderHelp(PROGRAM, parsed.chain));
      return EXIT.ok;
    }
    if (parsed.kind === 'version') {
      io.stdout(
        json ? `${JSON.stringify({ version: VERSION, node: process.version }, null, 2)}\n` : `bella ${VERSION}\n`,
      );
      return EXIT.ok;
    }
    call = parsed.call;
    // --home and --socket take a value, --json is a flag (GLOBAL_OPTIONS).
    session = new CliSession(io, parsed.globals as GlobalOptions);
    await (call.spec.action as Action)(session, call);
    return EXIT.ok;
  } catch (err) {
    return reportError(err, io, json, call);
  } finally {
    session?.close();
  }
}
