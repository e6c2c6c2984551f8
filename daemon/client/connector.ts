import fs from 'node:fs';
// Light imports only: the CLI loads this on every command. The local client and the code that
// spawns a daemon are light (node:net; node:child_process only when spawning) and bundled with the
// CLI: one module loads faster than several small ones. The TLS client is loaded when needed.
import { BellaError, isBellaError } from '../api/errors';
import type { OperationInput } from '../api/operations';
import { routes, type OperationName, type OperationOutput } from '../api/routes';
import { DaemonClient, reachedNoDaemon, type CallOptions } from './client';
import { configDir, readMembership, type Membership } from './device';
import { daemonLockHolder, masterKeyPath } from './paths';
import type { RemoteClient, RemoteClientOptions } from './remote';
import { ensureDaemon, type EnsureDaemonOptions } from './spawn';

/** The calls a command makes on the daemon: a {@link DaemonClient}, or one that starts the daemon on its first call. */
export interface ApiClient {
  call<K extends OperationName>(name: K, input: OperationInput<K>, options?: CallOptions): Promise<OperationOutput<K>>;
  ping(): Promise<boolean>;
  close(): void;
}

/** Where the local daemon is: its data directory and socket, after flags and environment. */
export interface DaemonPlace {
  home: string;
  socket: string;
}

/** How to start a daemon: its built script (`dist/daemon.cjs`), and the program and environment that run it. */
export type DaemonLaunch = Omit<EnsureDaemonOptions, 'home' | 'socket' | 'args'>;

/** A token plane reached by {@link Connector.tokenPlane}. */
export interface TokenPlaneConnection {
  client: Pick<ApiClient, 'call' | 'close'>;
  /** Who answers, for messages: `the bella server at https://…`, `the daemon at SOCKET`. */
  who: string;
}

/** What the holder is told when no daemon it can reach knows the token. */
export const NO_HOLDER_DAEMON = 'no daemon here holds this lease: set BELLA_SERVER to the address its owner gave you';

/**
 * The one place that decides how a process reaches bella (docs/decisions.md, "CLI"):
 *
 * - a remote token plane (`--server`/`BELLA_SERVER`, resolved by the caller) serves token calls
 *   only, over pinned TLS ({@link RemoteClient}); nothing local is looked for then;
 * - admin calls go to the local socket, starting a daemon when none answers ({@link daemon});
 * - token calls without a server go to the local socket too: started as for admin calls on the
 *   owner's machine (its data directory holds `master.key`), never elsewhere;
 * - a teammate's machine that joined a team (`bella team join`, {@link membership}) and has no
 *   data directory of its own sends admin and token calls to that team's server, over pinned TLS
 *   with her device's client certificate; `--server`/`BELLA_SERVER` still choose explicitly;
 * - {@link existing} never starts one (`daemon status|stop`, `doctor`, completion);
 * - {@link running} asks first and starts one when none answers, for long-lived callers that
 *   need the whole {@link DaemonClient} (the desktop app's main process, `npm start`).
 */
export class Connector {
  private joined: Membership | null | undefined;

  constructor(
    readonly place: DaemonPlace,
    private readonly launch: DaemonLaunch,
    /** Where `bella team join` keeps the device key and team file. */
    readonly configDir: string = configDirOf(),
  ) {}

  /**
   * The team this machine joined, when it is not the owner's (no data directory of its own):
   * there, every call goes to the team's server with the device's certificate.
   */
  membership(): Membership | null {
    if (this.joined === undefined) this.joined = this.onOwnersMachine() ? null : readMembership(this.configDir);
    return this.joined;
  }

  /** A client of the team's server as this device, or null when this machine joined no team. */
  async teamServer(): Promise<RemoteClient | null> {
    const m = this.membership();
    if (!m) return null;
    return this.remote({
      server: m.server,
      fingerprint: m.serverFingerprint,
      device: { certPem: m.certPem, keyPem: m.keyPem },
      pinSource: {
        name: `the fingerprint pinned when this device joined (${this.configDir}/team.json)`,
        remedy:
          'if the owner rotated the certificate (bella listener rotate-cert), ask for a new invite and join again',
      },
    });
  }

  /** A client of the local daemon, which may or may not be running; never starts one. */
  async existing(): Promise<DaemonClient> {
    return new DaemonClient({ socketPath: this.place.socket });
  }

  /**
   * The local daemon, started (with `args`, e.g. `--accept-rollback`) when none answers; says
   * whether one had to be started. A live pid in the data directory's lock is taken as running
   * (no round trip); if its first call then finds nothing listening (a daemon still starting, a
   * stale lock), nothing was delivered, so the daemon is started or waited for and the call made
   * once more.
   */
  async daemon(args: readonly string[] = []): Promise<{ client: ApiClient; started: boolean }> {
    const team = await this.teamServer();
    if (team) return { client: asApiClient(team), started: false };
    if (daemonLockHolder(this.place.home) === undefined) return this.start(args);
    return { client: this.startingIfGone(await this.existing(), args), started: false };
  }

  /**
   * The local daemon after a round trip (`status`), started when none answers. Concurrent
   * callers may both start one; the daemon's single-instance lock lets exactly one serve.
   */
  running(): Promise<{ client: DaemonClient; started: boolean }> {
    return this.start([]);
  }

  /**
   * The token plane: the remote `server` when one is named, else the local daemon, started only
   * on the owner's machine. A daemon that does not know the token (or none answering where this
   * machine has no data directory of its own) gives {@link NO_HOLDER_DAEMON}.
   */
  async tokenPlane(server?: RemoteClientOptions): Promise<TokenPlaneConnection> {
    const remote = server ? await this.remote(server) : await this.teamServer();
    if (remote) return { client: remote, who: `the bella server at ${remote.server}` };
    const owners = this.onOwnersMachine();
    const client = owners ? (await this.daemon()).client : await this.existing();
    return {
      client: {
        async call(name, input, options) {
          try {
            return await client.call(name, input, options);
          } catch (err) {
            // No daemon answering (on a machine that has none of its own), or one that has never
            // seen this lease: it lives elsewhere. A refused CI login is about the JWT: said as it is.
            const lease = name !== 'ciLogin';
            if (
              isBellaError(err) &&
              lease &&
              (err.code === 'unauthenticated' || (err.code === 'unavailable' && !owners))
            ) {
              throw new BellaError(err.code, NO_HOLDER_DAEMON);
            }
            throw err;
          }
        },
        close: () => client.close(),
      },
      who: `the daemon at ${this.place.socket}`,
    };
  }

  /**
   * True on the owner's machine: its data directory holds `master.key`. Elsewhere a token's
   * lease lives on another machine, and no daemon is started for it.
   */
  onOwnersMachine(): boolean {
    return fs.existsSync(masterKeyPath(this.place.home));
  }

  /** A client of the remote token plane `server` (`bella doctor` probes it). */
  async remote(server: RemoteClientOptions): Promise<RemoteClient> {
    // Loaded only here: TLS and pinning are for holders on other machines.
    const { RemoteClient } = await import('./remote');
    return new RemoteClient(server);
  }

  private async start(args: readonly string[]): Promise<{ client: DaemonClient; started: boolean }> {
    return ensureDaemon({ ...this.launch, ...this.place, args });
  }

  /**
   * `client`, whose first call starts the daemon and is made once more when nothing listens. A
   * change cut off by a daemon that stopped while answering is not made again: it may be done.
   */
  private startingIfGone(client: ApiClient, args: readonly string[]): ApiClient {
    let first = true;
    return {
      call: async (name, input, options) => {
        const retry = first;
        first = false;
        try {
          return await client.call(name, input, options);
        } catch (err) {
          if (!retry || !(await worthStartingAfter(err, name, this.place.socket))) throw err;
          const { client: started } = await this.start(args);
          client = started;
          return started.call(name, input, options);
        }
      },
      ping: () => client.ping(),
      close: () => client.close(),
    };
  }
}

function configDirOf(): string {
  return configDir(process.env);
}

/** A team server's client as an {@link ApiClient}: it answers a ping when it says who the device is. */
function asApiClient(remote: RemoteClient): ApiClient {
  return {
    call: (name, input, options) => remote.call(name, input, options),
    ping: () =>
      remote.call('whoami', {}).then(
        () => true,
        () => false,
      ),
    close: () => remote.close(),
  };
}

/**
 * Whether a first call that failed with `err` is made again on a daemon started (or waited for)
 * now. One that reached no daemon delivered nothing, so it always is, even when a daemon listens
 * by now: another command's daemon, which took the lock before this one looked and bound its
 * socket after this call failed. A read cut off (a daemon that stopped while answering) is made
 * again only when nothing listens now; a change is not (it may be committed).
 */
export async function worthStartingAfter(err: unknown, name: OperationName, socket: string): Promise<boolean> {
  if (reachedNoDaemon(err)) return true;
  return isBellaError(err, 'unavailable') && routes[name].method === 'GET' && !(await listening(socket));
}

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
