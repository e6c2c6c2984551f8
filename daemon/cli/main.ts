// First of all: a listener on SIGUSR1 keeps Node from opening its inspector (127.0.0.1:9229) in
// a process that holds a token and secrets (`kill -USR1` would otherwise let anyone on the
// machine attach a debugger). `bella run` forwards the signal to its command instead.
process.on('SIGUSR1', () => {});

// A token typed on the command line (`bella run --token bax-…`) would stay readable by every
// local user in `ps` and /proc/PID/cmdline for the whole run. Setting process.title rewrites the
// memory those are read from (libuv overwrites the original argv area on Linux), so from here on
// they show `bax-****`. The first milliseconds of start-up stay exposed: --token-file, --token -
// and BELLA_TOKEN (/proc/PID/environ is readable by the owner only) never show it at all.
{
  const hidden = process.argv.map((arg) => arg.replace(/bax-[A-Za-z0-9_-]+/g, 'bax-****'));
  if (hidden.some((arg, i) => arg !== process.argv[i])) process.title = hidden.join(' ');
}

import { isBellaError } from '../api/errors';
import { daemonLockHolder } from '../client/paths';
import { daemonScriptPath } from './daemon-script';
import type { ApiClient, CliIO, DaemonTarget } from './session';
import { runCli } from './program';

/** True when something accepts connections on the socket. */
async function listening(socket: string): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const probe = connect(socket);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

async function startDaemon(target: DaemonTarget): Promise<{ client: ApiClient; started: boolean }> {
  const { ensureDaemon } = await import('../client/spawn');
  return ensureDaemon({
    home: target.home,
    socket: target.socket,
    daemonScript: daemonScriptPath(),
    args: target.daemonArgs,
  });
}

/**
 * The client of a daemon that looked alive. Its first call, if nothing listens on the socket
 * (a daemon still starting, or a stale lock), was never delivered: a daemon is started (or
 * waited for) and the call made once more.
 */
function startingIfGone(client: ApiClient, target: DaemonTarget): ApiClient {
  let first = true;
  return {
    async call(name, input, options) {
      const retry = first;
      first = false;
      try {
        return await client.call(name, input, options);
      } catch (err) {
        if (!retry || !isBellaError(err, 'unavailable') || (await listening(target.socket))) {
          throw err;
        }
        const { client: started } = await startDaemon(target);
        client = started;
        return started.call(name, input, options);
      }
    },
    ping: () => client.ping(),
    close: () => client.close(),
  };
}

const io: CliIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  // A getter: touching process.stdin sets up a stream, which most commands never read.
  get stdin() {
    return process.stdin;
  },
  env: process.env,
  cwd: process.cwd(),
  stdoutIsTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
  columns: process.stdout.columns,
  async connect(target, autoStart) {
    // Loaded on demand: help, usage errors and --version never load the HTTP client.
    const { DaemonClient } = await import('../client/client');
    const client = new DaemonClient({ socketPath: target.socket });
    if (!autoStart) return { client, started: false };
    // A live lock holder is enough to go ahead (no probe, no status request: both cost a round
    // trip); the code that spawns a daemon is loaded only when one has to be started.
    if (daemonLockHolder(target.home) !== undefined) return { client: startingIfGone(client, target), started: false };
    return startDaemon(target);
  },
};

// `bella audit list | head`: a reader that goes away is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

void runCli(process.argv.slice(2), io).then((code) => {
  process.exitCode = code;
});
