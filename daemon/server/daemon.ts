import fs from 'node:fs';
import os from 'node:os';
import http from 'node:http';
import path from 'node:path';
import { BellaError, isBellaError, parseDuration, routes } from '../api';
import { httpsOrigin } from '../api/origin';
import { createAppOpener, createDesktopNotifier } from '../notify';
import { createServices, EventBus, type MaintenanceOptions } from '../services';
import { readCliFile } from '../services/listener/cli-file';
import { ListenerService } from '../services/listener/service';
import { ensurePrivateDir } from '../base/node/files';
import { daemonLockHolder, daemonPidPath } from '../base/node/paths';
import { Store, type StateStore, type TimeSource } from '../store';
import { Leadership } from '../store/postgres/leadership';
import { PostgresStore } from '../store/postgres/store';
import { pgError } from '../store/postgres/pg';
import { NodeRole } from './node-role';
import pkg from '../../package.json' with { type: 'json' };
import { createApp, SOCKET_SURFACE } from './app';
import type { Handlers } from './handler-types';
import { TlsListener } from './listener';
import { auditRoutes } from './routes/audit';
import { channelRoutes } from './routes/channels';
import { ciTrustRoutes } from './routes/ci';
import { teamRoutes } from './routes/team';
import { databaseRoutes } from './routes/databases';
import { requestRoutes } from './routes/requests';
import { listenerRoutes } from './routes/listener';
import { tokenRoutes } from './routes/tokens';
import { leaseRoutes } from './routes/leases';
import { desktopNotificationRoutes } from './routes/desktop-notifications';
import { projectRoutes } from './routes/projects';
import { secretRoutes } from './routes/secrets';
import { systemRoutes } from './routes/system';

/** The daemon's version, reported by `status`. */
export const VERSION = pkg.version;

/** Where a daemon keeps its data and listens. */
export interface DaemonOptions {
  home: string;
  socket: string;
  /** Injected time, for tests. */
  time?: TimeSource;
  /** Accept a state older than the audit trail records (a backup restored on purpose). */
  acceptRollback?: boolean;
  log?: (message: string) => void;
  /** Keep the state on PostgreSQL, shared with other nodes, instead of the data directory's files. */
  postgres?: PostgresNode;
}

/** A node of several sharing one PostgreSQL (`--store postgres://…`): one active, the others standbys. */
export interface PostgresNode {
  connectionString: string;
  /** This node's name, and the URL holders reach its listener at (where standbys redirect them). */
  node: string;
  url: string | null;
  /** PostgreSQL ends a silent active node's session after this long (ms): the bound on a hung node. */
  idleTimeoutMs?: number;
}

/** A running daemon. */
export interface RunningDaemon {
  /** Resolves when the daemon has stopped, for whatever reason. */
  stopped: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Logs one line with a timestamp to stderr (the journal under systemd, daemon.log when started
 * in the background). Never given a token or a secret value.
 */
export function stderrLog(message: string): void {
  process.stderr.write(`${new Date().toISOString()} ${message}\n`);
}

/**
 * Starts a daemon on a data directory; one per directory, refused when another is running. On
 * PostgreSQL the node starts as a standby and becomes active when it takes leadership; a node that
 * loses leadership steps down: it stops everything of that term (its memory may hold a change that
 * never committed) and starts again as a standby, until it is stopped.
 */
export async function runDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  if (!options.postgres) {
    const term = await runTerm(options);
    return { stopped: term.ended.then(() => undefined), stop: term.stop };
  }
  const log = options.log ?? stderrLog;
  let term = await runTerm(options);
  let stopRequested = false;
  const stopped = (async () => {
    for (;;) {
      if ((await term.ended) === 'stopped' || stopRequested) return;
      for (;;) {
        try {
          log('starting again as a standby');
          term = await runTerm(options);
          break;
        } catch (err) {
          log(`could not start as a standby (${(err as Error).message}); trying again in 2 s`);
          await new Promise((resolve) => setTimeout(resolve, 2000));
          if (stopRequested) return;
        }
      }
    }
  })();
  return {
    stopped,
    stop: async () => {
      stopRequested = true;
      await term.stop();
      await stopped;
    },
  };
}

/** One term of a daemon: from its start until it stops, or (on PostgreSQL) steps down. */
interface Term {
  ended: Promise<'stopped' | 'stepped-down'>;
  stop(): Promise<void>;
}

async function runTerm(options: DaemonOptions): Promise<Term> {
  const log = options.log ?? stderrLog;
  // Everything the daemon creates is owner-only, including the socket (created under this umask).
  process.umask(0o077);
  const maintenance = maintenanceOptions();
  let releaseLock: () => void = () => undefined;
  let store: StateStore;
  const node = options.postgres;
  try {
    ensurePrivateDir(options.home);
    prepareSocketDir(options.home, options.socket);
    releaseLock = await acquireLock(options.home, options.socket);
    store = node
      ? await PostgresStore.open({
          connectionString: node.connectionString,
          home: options.home,
          time: options.time,
          log,
          idleTimeoutMs: node.idleTimeoutMs,
        })
      : await Store.open(options.home, {
          time: options.time,
          acceptRollback: options.acceptRollback,
          // Test knobs: small segments and journals make rotation and compaction frequent.
          segmentBytes: numberFromEnv('BELLA_AUDIT_SEGMENT_BYTES'),
          journalCompactBytes: numberFromEnv('BELLA_JOURNAL_COMPACT_BYTES'),
          // Test knob: 0 scans the audit trail in a worker at start whatever the sizes.
          scanWorkerBytes: numberFromEnv('BELLA_SCAN_WORKER_BYTES', 0),
          log,
        });
  } catch (err) {
    releaseLock();
    throw dataDirError(err, options.home);
  }
  const pgStore = store instanceof PostgresStore ? store : null;
  const role = pgStore && node ? new NodeRole(pgStore, node.node, node.url, node.connectionString) : null;
  const events = new EventBus();
  const notifier = createDesktopNotifier({ log, timeoutMs: numberFromEnv('BELLA_NOTIFY_TIMEOUT_MS', 100) });
  const services = createServices(
    { store, events, log },
    notifier,
    maintenance,
    {
      // Test knob: retries seconds apart instead of minutes.
      baseRetryDelayMs: numberFromEnv('BELLA_CHANNEL_RETRY_BASE_MS', 10),
      // Test knobs: a small outbox bound (count, age) without a thousand events or three days.
      maxItems: numberFromEnv('BELLA_CHANNEL_OUTBOX_MAX', 1),
      maxAgeMs: numberFromEnv('BELLA_CHANNEL_OUTBOX_MAX_AGE_MS', 100),
    },
    {
      // Test knob: refetch an issuer's keys on every unknown kid instead of at most every 30 s.
      minRefetchMs: numberFromEnv('BELLA_CI_JWKS_REFETCH_MS', 1),
    },
    // Test knob: drop retries at most this far apart instead of a minute.
    { retryMaxMs: numberFromEnv('BELLA_DB_RETRY_MAX_MS', 100) },
    // A notification's Open button launches the app (BELLA_APP_COMMAND, set by the app, or bella-desktop).
    createAppOpener(process.env, log),
  );
  /** What only the node that commits runs: expiry and its timers, the outbox, drops, request windows. */
  const startCommitting = async () => {
    const caughtUp = await services.lifecycle.start();
    if (caughtUp.expired || caughtUp.expiringSoon) {
      log(
        `start-up catch-up: ${caughtUp.expired} leases expired while stopped, ${caughtUp.expiringSoon} inside their warning window`,
      );
    }
    services.channels.start();
    // Logins whose creation was never confirmed are revoked; drops due (leases ended while down) run.
    await services.dbLogins.start();
    services.requests.start();
    // Rotations committed but not confirmed (bella stopped mid-way) set their password again, in the background.
    void services.rotations.resume().catch((err) => log(`rotations: ${String(err)}`));
  };
  if (!role) await startCommitting();

  // The one-file CLI holders fetch (GET /v1/cli/bella.mjs), read once: a missing one is answered
  // `unavailable`, never fatal.
  const cliFile = readCliFile();
  if (!cliFile.ok) log(`cli file: ${cliFile.problem}`);
  const listener = new ListenerService(
    services.ctx,
    services.refusals,
    new TlsListener(services, () => handlers, log, cliFile, role),
  );
  let stopping: Promise<void> | null = null;
  let endedAs: 'stopped' | 'stepped-down' = 'stopped';
  let resolveEnded!: (how: 'stopped' | 'stepped-down') => void;
  const ended = new Promise<'stopped' | 'stepped-down'>((r) => (resolveEnded = r));
  const waiting = new AbortController();
  let leadership: Leadership | null = null;
  const stop = (how: 'stopped' | 'stepped-down' = 'stopped') =>
    (stopping ??= (async () => {
      endedAs = how;
      log(how === 'stopped' ? 'stopping' : 'stepping down: stopping this term');
      waiting.abort();
      closeStreams();
      await listener.stop();
      await app.close();
      services.lifecycle.stop();
      services.dbLogins.stop();
      await services.postgres.close();
      services.requests.stop();
      await services.refusals.close();
      await services.channels.stop();
      await services.maintenance.stop();
      await notifier.close();
      await store.close();
      await leadership?.release();
      fs.rmSync(options.socket, { force: true });
      releaseLock();
      log('stopped');
      resolveEnded(endedAs);
    })());

  const handlers: Handlers = {
    ...systemRoutes(services, {
      version: VERSION,
      startedAt: new Date(services.ctx.clock()).toISOString(),
      socket: options.socket,
      storage: () => role?.status() ?? { kind: 'files' },
      stop: () => void stop(),
    }),
    ...projectRoutes(services),
    ...secretRoutes(services),
    ...tokenRoutes(services),
    ...leaseRoutes(services, () => listener.handover()),
    ...auditRoutes(services),
    ...desktopNotificationRoutes(services),
    ...listenerRoutes(listener),
    ...channelRoutes(services),
    ...ciTrustRoutes(services, () => listener.handover().server),
    ...teamRoutes(services, () => listener.handover()),
    ...databaseRoutes(services),
    ...requestRoutes(services, () => listener.handover()),
  };
  const { app, closeStreams } = createApp(services, handlers, log, {
    ...SOCKET_SURFACE,
    cliFile,
    ...(role ? { gate: (request) => role.standbySocketAnswer(request) } : {}),
  });
  if (process.platform !== 'win32') fs.rmSync(options.socket, { force: true });
  await app.listen({ path: options.socket });
  if (process.platform !== 'win32') fs.chmodSync(options.socket, 0o600);
  log(`bella daemon ${VERSION} (pid ${process.pid}) serving ${options.home} on ${options.socket}`);
  await listener.resume();
  // Checks for notify-send now, so a missing one is in the log (once) from the start.
  notifier.health();
  if (!role || !pgStore || !node) {
    services.maintenance.start();
    return { ended, stop: () => stop() };
  }
  const stepDown = (reason: string) => {
    if (stopping) return;
    log(`leadership lost: ${reason}`);
    void stop('stepped-down');
  };
  pgStore.onStepDown(stepDown);
  log(`standby: waiting to become the active node (${node.node}${node.url ? `, ${node.url}` : ''})`);
  void (async () => {
    const held = await Leadership.acquire({
      connectionString: node.connectionString,
      node: node.node,
      url: node.url ?? '',
      idleTimeoutMs: node.idleTimeoutMs,
      onLost: stepDown,
      signal: waiting.signal,
    });
    if (stopping) return held.release();
    leadership = held;
    const { caughtUp } = await pgStore.activate(held.epoch);
    // Every epoch begins with an entry of its own: the chain says which node was active when.
    await pgStore.record([
      {
        event: 'NodeActivated',
        outcome: 'Success',
        actor: 'daemon',
        message: `node ${node.node}${node.url ? ` (${node.url})` : ''} became the active node at epoch ${held.epoch}`,
      },
    ]);
    await startCommitting();
    role.activated(held.epoch);
    log(`active at epoch ${held.epoch} (read ${caughtUp} commits made since this node loaded)`);
    services.maintenance.start();
  })().catch((err: unknown) => {
    if (stopping) return;
    stepDown(`could not become the active node: ${isBellaError(err) ? err.message : pgError(err)}`);
  });
  return { ended, stop: () => stop() };
}

/**
 * Where the state is kept, from `--store` (or BELLA_STORE): the data directory's files (absent or
 * `files`), or a `postgres://` URL shared by several nodes. A node is named by `--node` (or
 * BELLA_NODE, default the host name) and reached by holders at `--url` (or BELLA_NODE_URL), where
 * standbys redirect them. A password belongs in PGPASSWORD or ~/.pgpass, not in the URL (`ps`
 * shows arguments).
 */
export function storeOptions(
  flags: { store?: string; node?: string; url?: string },
  env: NodeJS.ProcessEnv = process.env,
): PostgresNode | undefined {
  const store = flags.store ?? env.BELLA_STORE;
  if (!store || store === 'files') {
    if (flags.node ?? flags.url)
      throw new BellaError(
        'invalid_argument',
        '--node and --url name a node on PostgreSQL: give --store postgres://… too',
      );
    return undefined;
  }
  if (!/^postgres(ql)?:\/\//.test(store)) {
    throw new BellaError(
      'invalid_argument',
      `--store must be 'files' or a PostgreSQL URL such as postgres://bella@db.lan/bella, not '${store.replace(/:[^:@/]*@/, ':…@')}'`,
    );
  }
  const node = flags.node ?? env.BELLA_NODE ?? os.hostname();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(node)) {
    throw new BellaError('invalid_argument', `--node must be a short name (letters, digits, . _ -), not '${node}'`);
  }
  const rawUrl = flags.url ?? env.BELLA_NODE_URL;
  let url: string | null = null;
  if (rawUrl) {
    url = httpsOrigin(rawUrl);
    if (!url) {
      throw new BellaError(
        'invalid_argument',
        `--url must be the https:// address holders list for this node, such as https://b.lan:7443, not '${rawUrl}'`,
      );
    }
  }
  const idleTimeoutMs = numberFromEnv('BELLA_PG_IDLE_TIMEOUT_MS', 1000);
  return { connectionString: store, node, url, ...(idleTimeoutMs ? { idleTimeoutMs } : {}) };
}

/** Retention and backups, from BELLA_LEASE_RETENTION (a duration, default 30d) and BELLA_BACKUPS_KEPT (default 7). */
export function maintenanceOptions(env: NodeJS.ProcessEnv = process.env): MaintenanceOptions {
  const retention = env.BELLA_LEASE_RETENTION ? parseDuration(env.BELLA_LEASE_RETENTION) : 30 * 86400;
  if (retention === undefined)
    throw new BellaError(
      'invalid_argument',
      `BELLA_LEASE_RETENTION must be a duration such as 30d, not '${env.BELLA_LEASE_RETENTION}'`,
    );
  const kept = env.BELLA_BACKUPS_KEPT ? Number(env.BELLA_BACKUPS_KEPT) : 7;
  if (!Number.isInteger(kept) || kept < 1)
    throw new BellaError(
      'invalid_argument',
      `BELLA_BACKUPS_KEPT must be a whole number of at least 1, not '${env.BELLA_BACKUPS_KEPT}'`,
    );
  return { retentionMs: retention * 1000, backupsKept: kept };
}

/**
 * A data directory the daemon cannot use (read-only, not ours, not a directory) is a one-line
 * error saying what to do, not a stack trace.
 */
function dataDirError(err: unknown, home: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const where = (err as NodeJS.ErrnoException).path ?? home;
  switch (code) {
    case 'EROFS':
      return new BellaError(
        'unavailable',
        `the data directory ${home} is on a read-only file system (EROFS at ${where}): mount it read-write, or pick another with --home or BELLA_HOME`,
      );
    case 'EACCES':
    case 'EPERM':
      return new BellaError(
        'permission_denied',
        `bella may not write in ${where} (${code}): use a data directory you own (--home or BELLA_HOME)`,
      );
    case 'ENOTDIR':
    case 'EEXIST':
      return new BellaError(
        'unavailable',
        `${where} is not a directory (${code}): point --home or BELLA_HOME at a directory`,
      );
    case 'ENOSPC':
      return new BellaError(
        'unavailable',
        `the disk holding ${home} is full (ENOSPC): free some space and start again`,
      );
    default:
      return err;
  }
}

function numberFromEnv(name: string, min = 4096): number | undefined {
  const text = process.env[name];
  if (!text) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new BellaError('invalid_argument', `${name} must be a whole number of at least ${min}, not '${text}'`);
  }
  return n;
}

function prepareSocketDir(home: string, socket: string): void {
  if (process.platform === 'win32') return;
  const dir = path.dirname(socket);
  if (dir === path.join(home, 'run') || !fs.existsSync(dir)) ensurePrivateDir(dir);
}

/**
 * Takes the data directory's lock (a pid file created exclusively). A lock left by a crashed
 * daemon is taken over; one held by a live daemon refuses the start.
 */
async function acquireLock(home: string, socket: string): Promise<() => void> {
  const file = daemonPidPath(home);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.rmSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = daemonLockHolder(home);
    if (pid && pid !== process.pid) {
      const answering = await answersStatus(socket);
      throw new BellaError(
        'conflict',
        answering
          ? `a bella daemon (pid ${pid}) is already running for ${home} on ${socket}`
          : `a bella daemon (pid ${pid}) already holds ${home}; stop it first (bella daemon stop, or kill ${pid})`,
      );
    }
    // The previous daemon died without cleaning up (crash, kill -9): its lock and socket are stale.
    fs.rmSync(file, { force: true });
  }
  throw new BellaError('unavailable', `could not take the lock ${file}; remove it if no daemon is running`);
}

/** True when a daemon answers the status operation on `socket` within 2 s. A raw request: the server does not depend on the client. */
function answersStatus(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: socket, path: routes.status.path, agent: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
