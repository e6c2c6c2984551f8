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

import { Connector } from '../client/connector';
import { daemonScriptPath } from './daemon-script';
import type { CliIO } from './session';
import { runCli } from './program';

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
  // Connections are made by the connector only when a command needs one: help, usage errors and
  // --version never load the HTTP client.
  connector: (place) => new Connector(place, { daemonScript: daemonScriptPath() }),
};

// `bella audit list | head`: a reader that goes away is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

void runCli(process.argv.slice(2), io).then((code) => {
  process.exitCode = code;
});
