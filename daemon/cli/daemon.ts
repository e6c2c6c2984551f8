import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { BellaError } from '../api/errors';
import type { DaemonStatus } from '../api/operations';
import { daemonScriptPath, type ApiClient, type Cli } from './context';
import { formatPairs, formatWhen } from './format';

/** The foreground entry exported by dist/daemon.js. */
interface DaemonModule {
  runDaemon(options: { home: string; socket: string }): Promise<{ stop(): Promise<void> }>;
}

function describeStatus(s: DaemonStatus): string {
  const n = s.notifications;
  return formatPairs([
    ['daemon', `bella ${s.version}, running (pid ${s.pid})`],
    ['since', formatWhen(s.startedAt)],
    ['data dir', s.dataDir],
    ['socket', s.socket],
    [
      'contents',
      `${s.counts.projects} projects, ${s.counts.environments} environments, ${s.counts.secrets} secrets, ${s.counts.activeLeases} active leases`,
    ],
    ['notifications', n.available ? 'available' : `unavailable: ${n.problem ?? 'unknown reason'}`],
  ]);
}

async function waitUntilGone(client: ApiClient, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await client.ping())) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** `bella daemon start|stop|status|run`. */
export function registerDaemon(program: Command, cli: Cli): void {
  const daemon = program.command('daemon').description('start, stop and inspect the bella daemon');

  daemon
    .command('start')
    .description('start the daemon in the background (says so if one is already running)')
    .action(async () => {
      const { client, started } = await cli.start();
      const status = await client.call('status', {});
      cli.print({ started, status }, () =>
        started
          ? `bella daemon started (pid ${status.pid}, socket ${status.socket})`
          : `bella daemon is already running (pid ${status.pid}, socket ${status.socket})`,
      );
    });

  daemon
    .command('stop')
    .description('stop the daemon and wait until it is gone')
    .action(async () => {
      const client = await cli.existing();
      const { socket } = cli.target();
      let pid: number | null = null;
      try {
        pid = (await client.call('status', {})).pid;
        await client.call('shutdown', {});
      } catch (err) {
        // A daemon that closes its socket before answering has still stopped.
        if (!(err instanceof BellaError && err.code === 'unavailable')) throw err;
      }
      if (pid === null) {
        cli.print({ stopped: false, running: false }, () => `no bella daemon is running on ${socket}`);
        return;
      }
      client.close();
      if (!(await waitUntilGone(client, 15_000))) {
        throw new BellaError(
          'unavailable',
          `the bella daemon (pid ${pid}) is still answering on ${socket} after 15 s: stop it with \`kill ${pid}\``,
        );
      }
      cli.print({ stopped: true, pid }, () => `bella daemon stopped (pid ${pid})`);
    });

  daemon
    .command('status')
    .description('show whether the daemon runs, where, and the health of notifications')
    .action(async () => {
      const client = await cli.existing();
      const status = await client.call('status', {});
      cli.print(status, () => describeStatus(status));
    });

  daemon
    .command('run')
    .description('run the daemon in the foreground until Ctrl-C')
    .action(async () => {
      const { home, socket } = cli.target();
      // Built at runtime so the bundler leaves dist/daemon.js as a separate module.
      const url = pathToFileURL(daemonScriptPath()).href;
      let mod: DaemonModule;
      try {
        mod = (await import(url)) as DaemonModule;
      } catch (err) {
        throw new BellaError(
          'unavailable',
          `cannot load the daemon from ${url}: run npm install (it builds bella) (${(err as Error).message})`,
        );
      }
      const handle = await mod.runDaemon({ home, socket });
      cli.note(`bella daemon running in the foreground on ${socket} (Ctrl-C to stop)`);
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          cli.note(`${signal}: stopping the bella daemon`);
          handle.stop().then(resolve, (err: unknown) => {
            cli.note(`error: the daemon did not stop cleanly: ${(err as Error).message}`);
            resolve();
          });
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
