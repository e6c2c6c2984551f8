import fs from 'node:fs';
import path from 'node:path';
import type { ZodType } from 'zod';
import type { TokenOperation } from '../api/answers';
import { parseDuration } from '../api/durations';
import { BellaError } from '../api/errors';
import type { OperationInput } from '../api/operations';
import type { HolderLease, OperationOutput } from '../api/routes';
import { scopeMatcher } from '../base/common/scope';
import { looksLikeToken, tokenLeaseId } from '../base/common/token-format';
import type { RemoteClient, RemoteClientOptions } from '../client/remote';
import { UsageError } from './framework/errors';
import { readAll } from './prompt';
import type { CliSession, EnvironmentRef } from './session';

/** The operations a token's holder may call: read its secrets, look up and end its own lease. */
export type { TokenOperation };

/**
 * A client of the token plane, local (the owner's socket) or remote (BELLA_SERVER). Its answers
 * are checked against the contract's answer schemas before they are returned.
 */
export interface TokenPlaneClient {
  /** Who answers, for messages: `the bella server at https://…`, `the daemon at SOCKET`. */
  readonly who: string;
  call<K extends TokenOperation>(
    name: K,
    input: OperationInput<K>,
    options: { token: string },
  ): Promise<OperationOutput<K>>;
  close(): void;
}

/** The options that name a token and where its token plane is (see `definitions.ts`). */
type TokenOpts = Record<string, unknown> & {
  token?: unknown;
  tokenFile?: unknown;
  server?: unknown;
  fingerprint?: unknown;
  timeout?: unknown;
};

/** True when a token is given: --token, --token-file or BELLA_TOKEN (the command then reads as its holder). */
export function hasToken(cli: CliSession, opts: TokenOpts): boolean {
  return (
    (typeof opts.token === 'string' && opts.token.trim() !== '') ||
    typeof opts.tokenFile === 'string' ||
    Boolean(cli.io.env.BELLA_TOKEN?.trim())
  );
}

/**
 * The token, checked for its shape before anything is sent: `--token bax-…`, `--token -` (one
 * read of stdin), `--token-file FILE`, else BELLA_TOKEN. The last three never show the token in
 * `ps`; a token typed on the command line is hidden from it once bella has started (main.ts).
 */
export async function requireToken(cli: CliSession, opts: TokenOpts): Promise<string> {
  const flag = typeof opts.token === 'string' ? opts.token.trim() : '';
  const file = typeof opts.tokenFile === 'string' ? opts.tokenFile : undefined;
  if (flag && file !== undefined) throw new UsageError('give either --token or --token-file, not both');
  let token: string;
  if (file !== undefined) {
    try {
      token = fs.readFileSync(path.resolve(cli.io.cwd, file), 'utf8').trim();
    } catch (err) {
      throw new BellaError(
        'invalid_argument',
        `cannot read --token-file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    if (!token) throw new UsageError(`--token-file ${file} is empty: put the bax-… token in it`);
  } else if (flag === '-') {
    token = (await readAll(cli.io.stdin)).trim();
    if (!token) throw new UsageError('--token - reads the token from stdin, which was empty: pipe it in');
  } else {
    token = flag || (cli.io.env.BELLA_TOKEN?.trim() ?? '');
  }
  if (!token)
    throw new UsageError('no token: pass --token bax-…, --token-file FILE or --token - (stdin), or set BELLA_TOKEN');
  checkTokenShape(token);
  return token;
}

/** A usage error for text that is not a whole bella token. */
export function checkTokenShape(token: string): void {
  if (tokenLeaseId(token) === undefined) {
    throw new UsageError(
      looksLikeToken(token)
        ? 'malformed token: a bella token is bax-<16-character lease id>-<43-character secret>; copy it whole'
        : 'that is not a bella token (they start with bax-): pass --token bax-… or set BELLA_TOKEN',
    );
  }
}

/** The overall deadline of each remote call in ms: --timeout, else BELLA_TIMEOUT, else the client's 30 s. */
function remoteTimeout(cli: CliSession, opts: TokenOpts): number | undefined {
  if (typeof opts.timeout === 'number') return opts.timeout * 1000;
  const text = cli.io.env.BELLA_TIMEOUT?.trim();
  if (!text) return undefined;
  const seconds = parseDuration(text);
  if (seconds === undefined) throw new UsageError(`BELLA_TIMEOUT must be a duration such as 30s or 2m, not '${text}'`);
  return seconds * 1000;
}

/** The remote token plane named by --server or BELLA_SERVER (with its pin and deadline), or undefined when none is. */
function remoteServer(cli: CliSession, opts: TokenOpts): RemoteClientOptions | undefined {
  const server = (typeof opts.server === 'string' ? opts.server : cli.io.env.BELLA_SERVER)?.trim();
  if (!server) return undefined;
  const fingerprint = (
    typeof opts.fingerprint === 'string' ? opts.fingerprint : cli.io.env.BELLA_SERVER_FINGERPRINT
  )?.trim();
  const timeoutMs = remoteTimeout(cli, opts);
  return {
    server,
    ...(fingerprint ? { fingerprint } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
}

/** A client of the remote token plane named by --server or BELLA_SERVER, or undefined when none is. */
export async function remotePlane(cli: CliSession, opts: TokenOpts): Promise<RemoteClient | undefined> {
  const server = remoteServer(cli, opts);
  return server ? cli.connector.remote(server) : undefined;
}

/**
 * The one way every token-plane call is made (`run`/`pull`/`secrets get`/`inject` with a token,
 * `token lookup|revoke`): the remote token plane when --server or BELLA_SERVER names one, else
 * the local daemon, as the connector decides (daemon/client/connector.ts).
 */
export async function connectTokenPlane(cli: CliSession, opts: TokenOpts = {}): Promise<TokenPlaneClient> {
  const { client, who } = await cli.tokenPlane(remoteServer(cli, opts));
  return checkedAnswers(client, who);
}

/**
 * Wraps a client so that every answer is validated with the contract's answer schema: a server's
 * answer is untrusted input on the holder's machine (a compromised or impersonated server), and
 * one field out of shape (a key such as `X=1;touch f`) refuses the whole answer, naming the server.
 */
function checkedAnswers(client: Omit<TokenPlaneClient, 'who'>, who: string): TokenPlaneClient {
  return {
    who,
    async call<K extends TokenOperation>(
      name: K,
      input: OperationInput<K>,
      options: { token: string },
    ): Promise<OperationOutput<K>> {
      const answer = await client.call(name, input, options);
      // Loaded on demand, as for every use of the schema library in the CLI.
      const { tokenAnswers } = await import('../api/answers');
      const parsed = (tokenAnswers[name] as ZodType).safeParse(answer);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const at = issue?.path ?? [];
        const what =
          issue?.code === 'invalid_key'
            ? `the key ${JSON.stringify(String(at.at(-1)))}, which is not a key name (letters, digits and underscores, not starting with a digit)`
            : `${at.map(String).join('.') || 'an answer'} that is not a bella answer (${issue?.message ?? 'malformed'})`;
        throw refusedAnswer(who, what);
      }
      return parsed.data as OperationOutput<K>;
    },
    close: () => client.close(),
  };
}

function refusedAnswer(who: string, what: string): BellaError {
  return new BellaError(
    'permission_denied',
    `${who} answered with ${what}: bella refused the whole answer and used none of it; tell the lease's owner`,
  );
}

/**
 * Guards against a token silently overriding what the user named: with an explicit -p/-e, the
 * token's lease must be of that project and environment (checked before any secret is read).
 */
function checkTokenMatches(lease: HolderLease, named: Partial<EnvironmentRef>): void {
  if (!named.project && !named.environment) return;
  const projectDiffers = named.project !== undefined && named.project !== lease.project;
  const environmentDiffers = named.environment !== undefined && named.environment !== lease.environment;
  if (projectDiffers || environmentDiffers) {
    const asked = [named.project ? `-p ${named.project}` : '', named.environment ? `-e ${named.environment}` : '']
      .filter(Boolean)
      .join(' ');
    throw new BellaError(
      'invalid_argument',
      `the token is for ${lease.project}/${lease.environment} (lease ${lease.id}), but ${asked} names ${named.project ?? lease.project}/${named.environment ?? lease.environment}: drop -p/-e to use the token, or unset BELLA_TOKEN to read as the owner`,
    );
  }
}

/** What a holder reads: the lease and its secrets. */
export type LeaseSecrets = OperationOutput<'readSecrets'>;

/**
 * The one way a holder reads secrets with a token. It looks the lease up, checks it against an
 * explicit -p/-e, reads (all keys, or `keys`), and refuses the whole answer unless it is of this
 * token's lease and every key is within the lease's scope as the lookup reported it (and among
 * `keys` when some were asked for). Defends the holder against a server injecting variables it
 * was never asked for (`LD_PRELOAD`, `NODE_OPTIONS`) next to the keys of a one-key lease.
 */
export async function readLeaseSecrets(
  plane: TokenPlaneClient,
  token: string,
  options: { named?: Partial<EnvironmentRef>; keys?: readonly string[] } = {},
): Promise<LeaseSecrets> {
  const { lease } = await plane.call('lookupToken', {}, { token });
  checkTokenMatches(lease, options.named ?? {});
  const read = await plane.call('readSecrets', options.keys ? { keys: options.keys.join(',') } : {}, { token });
  const leaseId = tokenLeaseId(token);
  if (lease.id !== leaseId || read.leaseId !== leaseId) {
    throw refusedAnswer(
      plane.who,
      `lease ${lease.id === leaseId ? read.leaseId : lease.id}, not this token's lease ${leaseId}`,
    );
  }
  if (read.project !== lease.project || read.environment !== lease.environment) {
    throw refusedAnswer(
      plane.who,
      `secrets of ${read.project}/${read.environment} for a lease of ${lease.project}/${lease.environment}`,
    );
  }
  const inScope = scopeMatcher(lease.scope);
  const asked = options.keys ? new Set(options.keys) : undefined;
  for (const key of Object.keys(read.secrets)) {
    if (!inScope(key)) throw refusedAnswer(plane.who, `${key}, outside the lease's scope (${lease.scope.join(', ')})`);
    if (asked && !asked.has(key)) throw refusedAnswer(plane.who, `${key}, which was not asked for`);
  }
  return read;
}

/** -p/-e exactly as typed on the command line (not from .bella). */
export function explicitRef(opts: Record<string, unknown>): Partial<EnvironmentRef> {
  return {
    project: typeof opts.project === 'string' ? opts.project : undefined,
    environment: typeof opts.environment === 'string' ? opts.environment : undefined,
  };
}
