// First of all: a listener on SIGUSR1 keeps Node from opening its inspector (127.0.0.1:9229) in
// a process that holds a token and secrets (`kill -USR1` would otherwise let anyone on the
// machine attach a debugger). `bella run` forwards the signal to its command instead.
process.on('SIGUSR1', () => {});

import type { CliIO } from './session';
import { runCli } from './program';

const io: CliIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
  stdoutIsTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
  columns: process.stdout.columns,
  async connect(target, autoStart) {
    // Loaded on demand: help, usage errors and --version never load the HTTP client.
    const { DaemonClient } = await import('../client/client');
    if (!autoStart) return { client: new DaemonClient({ socketPath: target.socket }), started: false };
    const [{ ensureDaemon }, { daemonScriptPath }] = await Promise.all([
      import('../client/spawn'),
      import('./daemon-script'),
    ]);
    return ensureDaemon({ home: target.home, socket: target.socket, daemonScript: daemonScriptPath() });
  },
};

// `bella audit list | head`: a reader that goes away is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await runCli(process.argv.slice(2), io);
