import { BellaError, isBellaError } from '../../api/errors';
import type { DaemonStatus, NotificationHealth, StorageStatus } from '../../api/routes';
import { importDaemon } from '../daemon-import';
import { daemonScriptPath } from '../daemon-script';
import { formatPairs, formatWhen } from '../format';
import type { ApiClient } from '../../client/connector';
import { daemonLockHolder } from '../../client/paths';
import type { Action } from '../session';
import { acceptRollbackOption } from './shared-options';
import type { CommandSpec } from '../framework/spec';

/** The foreground entry exported by dist/daemon.cjs. */
interface DaemonModule {
  runDaemon(options: {
    home: string;
    socket: string;
    acceptRollback?: boolean;
    postgres?: unknown;
  }): Promise<{ stop(): Promise<void> }>;
  /** Where the state is kept (`--store`, `--node`, `--url`, or BELLA_STORE…): daemon/server/daemon.ts. */
  storeOptions(flags: { store?: string; node?: string; url?: string }): unknown;
}

/** Notification health in words: unknown until one was sent or tested. */
export function describeNotifications(n: NotificationHealth): string {
  if (n.available === false) return `not delivered: ${n.problem ?? 'unknown reason'}`;
  if (n.available === true) return 'delivered (the last one sent or tested was shown)';
  return 'not known yet: none sent since the daemon started (try `bella notifications test`)';
}

/**
 * Where the state is kept, and on PostgreSQL this node's role: one `storage` line, and a `role`
 * line naming the active node (or saying that none is).
 */
function describeStorage(storage: StorageStatus, dataDir: string, now = Date.now()): Array<[string, string]> {
  if (storage.kind === 'files') return [['storage', `files in ${dataDir}`]];
  let role: string;
  if (storage.role === 'active') {
    role = `active (epoch ${storage.epoch ?? '?'}) as node ${storage.node}${storage.url === null ? '' : `, ${storage.url}`}`;
  } else if (storage.active === null) {
    role = `standby (node ${storage.node}); no node is active now (holders get 503 and retry)`;
  } else {
    const a = storage.active;
    const since = a.since === null ? '' : ` since ${formatWhen(a.since, now)}`;
    role = `standby (node ${storage.node}); active: node ${a.node ?? '(unnamed)'}${a.url === null ? '' : ` at ${a.url}`}${since}, epoch ${a.epoch}`;
  }
  return [
    ['storage', `PostgreSQL ${storage.server}`],
    ['role', role],
  ];
}

/** `bella daemon status` in words. */
export function describeStatus(s: DaemonStatus, now = Date.now()): string {
  return formatPairs([
    ['daemon', `bella ${s.version}, running (pid ${s.pid})`],
    ['since', formatWhen(s.startedAt, now)],
    ['data dir', s.dataDir],
    ...describeStorage(s.storage, s.dataDir, now),
    ['socket', s.socket],
    [
      'contents',
      `${s.counts.projects} projects, ${s.counts.environments} environments, ${s.counts.secrets} secrets, ${s.counts.activeLeases} active leases`,
    ],
    ['notifications', describeNotifications(s.notifications)],
    ...s.problems.map((p): [string, string] => ['attention', p]),
  ]);
}

/**
 * Waits until the daemon `pid` no longer answers and no longer holds `dataDir`'s lock: it releases
 * the lock last, once its files are closed (the last snapshot, the audit checkpoint).
 */
async function waitUntilGone(client: ApiClient, pid: number, dataDir: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await client.ping()) && daemonLockHolder(dataDir) !== pid) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/** `bella daemon start`. */
export const start: Action = async (cli, { opts }) => {
  const rollback = (opts as { acceptRollback?: boolean }).acceptRollback === true;
  const { client, started } = await cli.start(rollback ? ['--accept-rollback'] : []);
  const status = await client.call('status', {});
  cli.print({ started, status }, () =>
    started
      ? `bella daemon started (pid ${status.pid}, socket ${status.socket})`
      : `bella daemon is already running (pid ${status.pid}, socket ${status.socket})`,
  );
};

/** `bella daemon stop`. */
export const stop: Action = async (cli) => {
  const client = await cli.existing();
  const { socket } = cli.target();
  let pid: number | null = null;
  let dataDir = '';
  try {
    ({ pid, dataDir } = await client.call('status', {}));
    await client.call('shutdown', {});
  } catch (err) {
    // A daemon that closes its socket before answering has still stopped.
    if (!isBellaError(err, 'unavailable')) throw err;
  }
  if (pid === null) {
    cli.print({ stopped: false, running: false }, () => `no bella daemon is running on ${socket}`);
    return;
  }
  client.close();
  if (!(await waitUntilGone(client, pid, dataDir, 15_000))) {
    throw new BellaError(
      'unavailable',
      `the bella daemon (pid ${pid}) is still running for ${dataDir} after 15 s: stop it with \`kill ${pid}\``,
    );
  }
  cli.print({ stopped: true, pid }, () => `bella daemon stopped (pid ${pid})`);
};

/** `bella daemon status`. */
export const status: Action = async (cli) => {
  const client = await cli.existing();
  const s = await client.call('status', {});
  cli.print(s, () => describeStatus(s));
};

/** `bella daemon run`: the daemon in this process, until SIGINT or SIGTERM. */
export const runForeground: Action = async (cli, { opts }) => {
  const { home, socket } = cli.target();
  // Named at runtime so the bundler leaves dist/daemon.cjs as a separate module.
  const file = daemonScriptPath();
  let mod: DaemonModule;
  try {
    mod = importDaemon(file) as DaemonModule;
  } catch (err) {
    throw new BellaError(
      'unavailable',
      `cannot load the daemon from ${file}: run npm install (it builds bella) (${(err as Error).message})`,
    );
  }
  const flags = opts as { acceptRollback?: boolean; store?: string; node?: string; url?: string };
  const postgres = mod.storeOptions({ store: flags.store, node: flags.node, url: flags.url });
  const handle = await mod.runDaemon({
    home,
    socket,
    acceptRollback: flags.acceptRollback === true,
    ...(postgres ? { postgres } : {}),
  });
  cli.note(`bella daemon running in the foreground on ${socket} (Ctrl-C to stop)`);
  await new Promise<void>((resolve) => {
    const stopOn = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stopOn);
      process.off('SIGTERM', stopOn);
      cli.note(`${signal}: stopping the bella daemon`);
      handle.stop().then(resolve, (err: unknown) => {
        cli.note(`error: the daemon did not stop cleanly: ${(err as Error).message}`);
        resolve();
      });
    };
    process.on('SIGINT', stopOn);
    process.on('SIGTERM', stopOn);
  });
};

/** The `bella daemon` command, as the parser, help, completion and docs/cli.md read it. */
export const daemonCommand: CommandSpec = {
  name: 'daemon',
  summary: 'start, stop and inspect the bella daemon',
  subcommands: [
    {
      name: 'start',
      summary: 'start the daemon in the background (says so if one is already running)',
      details: 'When the daemon cannot start, its own reason is printed (from its log, <home>/daemon.log).',
      options: [acceptRollbackOption],
      action: start,
    },
    {
      name: 'stop',
      summary: 'stop the daemon and wait until it is gone',
      action: stop,
    },
    {
      name: 'status',
      summary: 'show whether the daemon runs, where, and whether notifications are delivered',
      details:
        "Also where its state is kept: files in the data dir, or PostgreSQL with this node's role (active or standby), its epoch and the active node.",
      action: status,
    },
    {
      name: 'run',
      summary: 'run the daemon in the foreground until Ctrl-C (or SIGTERM: a systemd service)',
      details:
        'With --store postgres://… the state is kept on PostgreSQL, shared by several nodes with the same master.key: one is active, the others are standbys that redirect holders to it and take over when it stops (README: "Two machines for a team").',
      options: [
        acceptRollbackOption,
        {
          long: 'store',
          value: 'URL',
          description:
            "where the state is kept: 'files' (the data directory, the default) or postgres://USER@HOST/DB (or BELLA_STORE); the password in PGPASSWORD or ~/.pgpass",
        },
        {
          long: 'node',
          value: 'NAME',
          description: "this node's name among the nodes on PostgreSQL (or BELLA_NODE; default the host name)",
        },
        {
          long: 'url',
          value: 'URL',
          description:
            'the https:// address holders list for this node, where standbys redirect them (or BELLA_NODE_URL)',
        },
      ],
      action: runForeground,
    },
  ],
};
