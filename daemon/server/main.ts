import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isExpectedError } from '../api';
import { resolveHome, resolveSocket } from '../base/node/paths';
import { runDaemon, storeOptions, type DaemonOptions, type RunningDaemon } from './daemon';

// As soon as the daemon's code runs: SIGUSR1 would open Node's inspector in a process holding the master key.
process.on('SIGUSR1', () => undefined);

export { runDaemon, storeOptions, VERSION } from './daemon';
export type { DaemonOptions, RunningDaemon };

/**
 * Runs a daemon in the foreground until SIGINT/SIGTERM or a shutdown request; `onReady` once it
 * serves (dist/daemon.cjs saves its code cache then: daemon/server/start.ts).
 */
export async function runForeground(options: DaemonOptions, onReady?: () => void): Promise<void> {
  const daemon = await runDaemon(options);
  onReady?.();
  const onSignal = () => void daemon.stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await daemon.stopped;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

/**
 * The daemon process: `node dist/daemon.cjs [--home H] [--socket S] [--accept-rollback]
 * [--store postgres://… [--node NAME] [--url https://…]]`.
 */
export async function main(onReady?: () => void): Promise<void> {
  const { values } = parseArgs({
    options: {
      home: { type: 'string' },
      socket: { type: 'string' },
      'accept-rollback': { type: 'boolean' },
      store: { type: 'string' },
      node: { type: 'string' },
      url: { type: 'string' },
    },
    strict: true,
  });
  const home = resolveHome(values.home);
  try {
    const postgres = storeOptions(values);
    await runForeground(
      {
        home,
        socket: resolveSocket(home, values.socket),
        acceptRollback: values['accept-rollback'] === true,
        ...(postgres ? { postgres } : {}),
      },
      onReady,
    );
  } catch (err) {
    if (isExpectedError(err)) {
      // One line, no stack: `bella daemon start` shows it as the reason the daemon did not start.
      process.stderr.write(`error: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

// Run from the sources (`tsx daemon/server/main.ts`); the build's entry calls main() itself.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) void main();
