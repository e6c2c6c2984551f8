import { BellaError } from '../api/errors';
import type { OperationInput } from '../api/operations';
import type { OperationName, OperationOutput } from '../api/routes';
import type { ApiClient, Connector, DaemonPlace, TokenPlaneConnection } from '../client/connector';
import { resolveHome, resolveSocket } from '../client/paths';
import type { RemoteClientOptions } from '../client/remote';
import { escapeControls } from '../base/common/terminal-text';
import { findContextFile } from './context-file';
import { UsageError } from './framework/errors';
import type { Invocation } from './framework/spec';

/** What a bella command does with its parsed command line. */
export type Action = (cli: CliSession, call: Invocation) => Promise<void>;

/** What the CLI needs from its surroundings; unit tests pass their own. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** Width of the terminal stdout is on, when it is one. */
  columns: number | undefined;
  /** The connector to bella for a data directory and socket (daemon/client/connector.ts). */
  connector(place: DaemonPlace): Connector;
}

/** The options every command takes. */
export interface GlobalOptions {
  home?: string;
  socket?: string;
  json?: boolean;
}

/** A project and environment to work on, and where they came from. */
export interface EnvironmentRef {
  project: string;
  environment: string;
  /** The `.bella` file they were read from; undefined when both came from -p/-e. */
  from?: string;
}

/** One invocation of the CLI: global options, output, the daemon connection. */
export class CliSession {
  private connection: Promise<ApiClient> | undefined;
  private connectorMade: Connector | undefined;
  private readonly clients = new Set<Pick<ApiClient, 'close'>>();

  constructor(
    readonly io: CliIO,
    readonly globals: GlobalOptions,
  ) {}

  /** True when `--json` (or `-o json`) was given. */
  get json(): boolean {
    return this.globals.json === true;
  }

  /** Data directory and socket, from flags, environment or defaults. */
  target(): DaemonPlace {
    const home = resolveHome(this.globals.home);
    return { home, socket: resolveSocket(home, this.globals.socket) };
  }

  /** The connector for this invocation's data directory and socket, made on first use. */
  get connector(): Connector {
    this.connectorMade ??= this.io.connector(this.target());
    return this.connectorMade;
  }

  /** Keeps `client` to close when the command is done. */
  private track<T extends Pick<ApiClient, 'close'>>(client: T): T {
    this.clients.add(client);
    return client;
  }

  /** The local daemon, for admin commands: never with BELLA_SERVER set, which names a token plane only. */
  private local(): Connector {
    // A holder's machine talks to the owner's token plane only: never a local daemon or socket.
    const server = this.io.env.BELLA_SERVER?.trim();
    if (server) {
      throw new UsageError(
        `BELLA_SERVER is set (${server}): only token commands (run, pull, secrets get, inject, token) reach a remote bella, with --token or BELLA_TOKEN; unset BELLA_SERVER to manage the local daemon`,
      );
    }
    return this.connector;
  }

  /** The admin client, starting a daemon when none answers. */
  api(): Promise<ApiClient> {
    this.connection ??= this.start().then((r) => r.client);
    return this.connection;
  }

  /** Connects, starting a daemon (with `daemonArgs`) when none answers; says whether one had to be started. */
  async start(daemonArgs: readonly string[] = []): Promise<{ client: ApiClient; started: boolean }> {
    const result = await this.local().daemon(daemonArgs);
    this.track(result.client);
    this.connection = Promise.resolve(result.client);
    return result;
  }

  /** A client of a daemon that may or may not be running; never starts one. */
  async existing(): Promise<ApiClient> {
    return this.track(await this.local().existing());
  }

  /**
   * The token plane: the remote `server` (`--server`/BELLA_SERVER, resolved by token-plane.ts)
   * when one is named, else the local daemon as the connector decides.
   */
  async tokenPlane(server: RemoteClientOptions | undefined): Promise<TokenPlaneConnection> {
    // Without a server named the plane is local, so BELLA_SERVER must not be set (`--server ''`).
    const plane = await (server ? this.connector : this.local()).tokenPlane(server);
    this.track(plane.client);
    return plane;
  }

  /** Calls one admin operation on the (auto-started) daemon. */
  async call<K extends OperationName>(name: K, input: OperationInput<K>): Promise<OperationOutput<K>> {
    return (await this.api()).call(name, input);
  }

  /** Writes text to stdout, ending it with a newline. */
  out(text: string): void {
    this.io.stdout(text.endsWith('\n') ? text : text + '\n');
  }

  /** Writes text to stderr, ending it with a newline. */
  note(text: string): void {
    this.io.stderr(text.endsWith('\n') ? text : text + '\n');
  }

  /** Prints `value` as JSON with --json, otherwise what `human` returns. */
  print(value: unknown, human: () => string): void {
    if (this.json) this.out(JSON.stringify(value, null, 2));
    else {
      const text = human();
      if (text) this.out(text);
    }
  }

  /** User text made safe for the terminal: control characters and escape sequences shown escaped. */
  safe(text: string | null | undefined): string {
    return escapeControls(text ?? '');
  }

  /** Columns tables may use: COLUMNS, else the terminal's width; unlimited when piped. */
  get width(): number {
    const columns = Number(this.io.env.COLUMNS);
    if (Number.isInteger(columns) && columns > 0) return columns;
    if (this.io.stdoutIsTTY && this.io.columns) return this.io.columns;
    return Number.POSITIVE_INFINITY;
  }

  /** Colour only on a terminal, never with NO_COLOR (no-color.org) or TERM=dumb. */
  get colour(): boolean {
    return this.io.stdoutIsTTY && !this.io.env.NO_COLOR && this.io.env.TERM !== 'dumb';
  }

  /**
   * The project and environment to work on: -p/-e, then the nearest `.bella`; a usage error
   * saying how to name them when neither gives both.
   */
  environmentRef(opts: { project?: unknown; environment?: unknown }): EnvironmentRef {
    const ref = this.optionalEnvironmentRef(opts);
    if (ref.project && ref.environment) return ref as EnvironmentRef;
    throw new UsageError(
      `no ${ref.project ? 'environment' : 'project'} given: pass -p PROJECT -e ENVIRONMENT or run \`bella context init\``,
    );
  }

  /** The project (and environment, if known) from -p/-e and `.bella`, without requiring either. */
  optionalEnvironmentRef(opts: { project?: unknown; environment?: unknown }): Partial<EnvironmentRef> {
    const project = typeof opts.project === 'string' ? opts.project : undefined;
    const environment = typeof opts.environment === 'string' ? opts.environment : undefined;
    if (project && environment) return { project, environment };
    const ctx = findContextFile(this.io.cwd);
    // -p alone names another project: the .bella environment belongs to its own project.
    if (!ctx || (project && project !== ctx.project)) return { project, environment };
    return { project: ctx.project, environment: environment ?? ctx.environment, from: ctx.file };
  }

  /** The project from -p, else `.bella`; a usage error when neither names one. */
  projectRef(opts: { project?: unknown }): string {
    const { project } = this.optionalEnvironmentRef({ project: opts.project });
    if (!project) throw new UsageError('no project given: pass -p PROJECT or run `bella context init`');
    return project;
  }

  /** Closes every daemon connection so the process can exit. */
  close(): void {
    for (const client of this.clients) client.close();
    this.clients.clear();
  }
}

/** The error for a value that no environment variable (and no secret) can hold. */
export function nulError(key: string, where = ''): BellaError {
  return new BellaError(
    'invalid_argument',
    `the value of ${key}${where} contains a NUL byte (\\0), which no environment variable can hold: remove it`,
  );
}
