import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isExpectedError } from '../api';
import { resolveHome, resolveSocket } from '../base/node/paths';
import { runDaemon, type DaemonOptions, type RunningDaemon } from './daemon';

// As soon as the daemon's code runs: SIGUSR1 would open Node's inspector in a process holding the master key.
process.on('SIGUSR1', () => undefined);

export { runDaemon, VERSION } from './daemon';
export type { DaemonOptions, RunningDaemon };

/** Runs a daemon in the foreground until SIGINT/SIGTERM or a shutdown request. */
export async function runForeground(options: DaemonOptions): Promise<void> {
  const daemon = await runDaemon(options);
  const onSignal = () => void daemon.stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await daemon.stopped;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { home: { type: 'string' }, socket: { type: 'string' }, 'accept-rollback': { type: 'boolean' } },
    strict: true,
  });
  const home = resolveHome(values.home);
  try {
    await runForeground({
      home,
      socket: resolveSocket(home, values.socket),
      acceptRollback: values['accept-rollback'] === true,
    });
  } catch (err) {
    if (isExpectedError(err)) {
      // One line, no stack: `bella daemon start` shows it as the reason the daemon did not start.
      process.stderr.write(`error: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
