import { ROOT } from './definitions';
import { EXIT, reportError } from './errors';
import { renderHelp } from './help';
import { parseArgv, wantsJson } from './parser';
import { CliSession, type CliIO } from './session';
import type { Action, Invocation } from './spec';
import { VERSION } from './version';

/** Runs `bella` with `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  let json = wantsJson(argv);
  let call: Invocation | undefined;
  let session: CliSession | undefined;
  try {
    const parsed = parseArgv(ROOT, argv);
    json = parsed.globals.json === true;
    if (parsed.kind === 'help') {
      io.stdout(renderHelp(parsed.chain));
      return EXIT.ok;
    }
    if (parsed.kind === 'version') {
      io.stdout(
        json ? `${JSON.stringify({ version: VERSION, node: process.version }, null, 2)}\n` : `bella ${VERSION}\n`,
      );
      return EXIT.ok;
    }
    call = parsed.call;
    session = new CliSession(io, parsed.globals);
    await (call.spec.action as Action)(session, call);
    return EXIT.ok;
  } catch (err) {
    return reportError(err, io, json, call);
  } finally {
    session?.close();
  }
}
