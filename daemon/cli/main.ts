// First of all: a listener on SIGUSR1 keeps Node from opening its inspector (127.0.0.1:9229) in
// a process that holds a token and secrets (`kill -USR1` would otherwise let anyone on the
// machine attach a debugger). `bella run` forwards the signal to its command instead.
process.on('SIGUSR1', () => {});

import { daemonScriptPath } from './daemon-script';
import type { CliIO } from './session';
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
    // Something listening is enough (no status request: that costs the daemon work); the code
    // that spawns a daemon is loaded only when one has to be started.
    const [{ DaemonClient }, up] = await Promise.all([
      import('../client/client'),
      autoStart ? listening(target.socket) : true,
    ]);
    const client = new DaemonClient({ socketPath: target.socket });
    if (up) return { client, started: false };
    const { ensureDaemon } = await import('../client/spawn');
    return ensureDaemon({ home: target.home, socket: target.socket, daemonScript: daemonScriptPath() });
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
