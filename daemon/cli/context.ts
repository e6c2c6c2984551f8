import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { BellaError } from '../api/errors';
import type { OperationInput, OperationName, OperationOutput } from '../api/operations';
import { resolveHome, resolveSocket } from '../client/paths';
import type { CallOptions } from '../client/client';

/** The part of DaemonClient the commands use. */
export interface ApiClient {
  call<K extends OperationName>(name: K, input: OperationInput<K>, options?: CallOptions): Promise<OperationOutput<K>>;
  ping(): Promise<boolean>;
  close(): void;
}

/** Where the daemon lives, after flags and environment are applied. */
export interface DaemonTarget {
  home: string;
  socket: string;
}

/** What the CLI needs from its surroundings; tests pass their own. */
export interface CliEnvironment {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Connects to the daemon; with `autoStart` a daemon is started when none answers. */
  connect(target: DaemonTarget, autoStart: boolean): Promise<{ client: ApiClient; started: boolean }>;
}

/** A mistake in how a command was called (exit code 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Thrown by a command that wants a specific exit code and has said everything already. */
export class ExitCode extends Error {
  override readonly name = 'ExitCode';
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** The built daemon entry: `dist/daemon.js` next to `dist/cli.js` (or dist/ from the sources). */
export function daemonScriptPath(): string {
  const candidates = [new URL('./daemon.js', import.meta.url), new URL('../../dist/daemon.js', import.meta.url)];
  const found = candidates.find((u) => fs.existsSync(fileURLToPath(u)));
  return fileURLToPath(found ?? (candidates[0] as URL));
}

/** The `.bella` context file: which project and environment a directory works on. */
export interface ContextFile {
  project: string;
  environment: string;
  file: string;
}

/** The nearest `.bella` file from `dir` upward, or undefined. */
export function findContextFile(dir: string): ContextFile | undefined {
  let current = path.resolve(dir);
  for (;;) {
    const file = path.join(current, '.bella');
    let text: string | undefined;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR') throw err;
    }
    if (text !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new BellaError('invalid_argument', `${file} is not valid JSON: fix it or rerun \`bella context init\``);
      }
      const { project, environment } = (parsed ?? {}) as Record<string, unknown>;
      if (typeof project !== 'string' || typeof environment !== 'string' || !project || !environment) {
        throw new BellaError(
          'invalid_argument',
          `${file} must hold {"project": "...", "environment": "..."}: fix it or rerun \`bella context init\``,
        );
      }
      return { project, environment, file };
    }
    const parent = path.dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/** Shared state of one CLI invocation: global options, output, the daemon connection. */
export class Cli {
  private connection: Promise<ApiClient> | undefined;
  private connected: ApiClient | undefined;

  constructor(
    readonly program: Command,
    readonly io: CliEnvironment,
  ) {}

  private get globals(): { home?: string; socket?: string; json?: boolean } {
    return this.program.opts();
  }

  /** True when `--json` was given. */
  get json(): boolean {
    return this.globals.json === true;
  }

  /** Data directory and socket, from flags, environment or defaults. */
  target(): DaemonTarget {
    const home = resolveHome(this.globals.home);
    return { home, socket: resolveSocket(home, this.globals.socket) };
  }

  /** The daemon client, starting a daemon when none answers. */
  api(): Promise<ApiClient> {
    this.connection ??= this.io.connect(this.target(), true).then(({ client }) => {
      this.connected = client;
      return client;
    });
    return this.connection;
  }

  /** Connects to the daemon, starting one when none answers; says whether it had to start one. */
  async start(): Promise<{ client: ApiClient; started: boolean }> {
    const result = await this.io.connect(this.target(), true);
    this.connected = result.client;
    this.connection = Promise.resolve(result.client);
    return result;
  }

  /** A client of the daemon that may or may not be running; never starts one. */
  async existing(): Promise<ApiClient> {
    const { client } = await this.io.connect(this.target(), false);
    this.connected = client;
    return client;
  }

  /** Calls one operation on the (auto-started) daemon. */
  async call<K extends OperationName>(
    name: K,
    input: OperationInput<K>,
    options?: CallOptions,
  ): Promise<OperationOutput<K>> {
    return (await this.api()).call(name, input, options);
  }

  /** Writes a line (or lines) to stdout. */
  out(text: string): void {
    this.io.stdout(text.endsWith('\n') ? text : text + '\n');
  }

  /** Writes a line (or lines) to stderr. */
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

  /**
   * The project and environment to work on: -p/-e, then the nearest `.bella`, else a usage
   * error saying how to name them.
   */
  environmentRef(opts: { project?: string; environment?: string }): { project: string; environment: string } {
    if (opts.project && opts.environment) return { project: opts.project, environment: opts.environment };
    const ctx = findContextFile(this.io.cwd);
    const project = opts.project ?? ctx?.project;
    const environment = opts.environment ?? ctx?.environment;
    if (project && environment) return { project, environment };
    throw new UsageError(
      `no ${project ? 'environment' : 'project'} given: pass -p PROJECT -e ENVIRONMENT or run \`bella context init\``,
    );
  }

  /** The token for token-plane commands: --token, then BELLA_TOKEN. */
  token(flag: string | undefined): string | undefined {
    const token = flag ?? this.io.env.BELLA_TOKEN;
    return token ? token.trim() : undefined;
  }

  /** Closes the daemon connection so the process can exit. */
  close(): void {
    this.connected?.close();
  }
}

/** Reads all of stdin as text. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Asks one question on a terminal and returns the answer; `hidden` keeps the typing off screen. */
export async function ask(io: CliEnvironment, question: string, hidden = false): Promise<string> {
  const readline = await import('node:readline');
  const { Writable } = await import('node:stream');
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!muted) io.stderr(chunk.toString());
      done();
    },
  });
  const rl = readline.createInterface({ input: io.stdin, output, terminal: true });
  try {
    return await new Promise<string>((resolve, reject) => {
      rl.question(question, (answer) => resolve(answer));
      rl.on('close', () => reject(new BellaError('invalid_argument', 'input ended before an answer was given')));
      muted = hidden;
    });
  } finally {
    if (hidden) io.stderr('\n');
    rl.close();
  }
}
