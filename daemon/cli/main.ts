import { ensureDaemon } from '../client/spawn';
import { DaemonClient } from '../client/client';
import { daemonScriptPath, type CliEnvironment } from './context';
import { runCli } from './program';

const io: CliEnvironment = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
  async connect(target, autoStart) {
    if (!autoStart) return { client: new DaemonClient({ socketPath: target.socket }), started: false };
    return ensureDaemon({ home: target.home, socket: target.socket, daemonScript: daemonScriptPath() });
  },
};

// `bella audit list | head`: a reader that goes away is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await runCli(process.argv.slice(2), io);
