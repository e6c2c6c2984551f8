import { BellaError, isBellaError } from '../api/errors';
import type { OperationInput } from '../api/operations';
import type { OperationOutput } from '../api/routes';
import { looksLikeToken, tokenLeaseId } from '../base/common/token-format';
import { UsageError } from './errors';
import type { CliSession, EnvironmentRef } from './session';

/** The operations a token's holder may call: read its secrets, look up and end its own lease. */
export type TokenOperation = 'readSecrets' | 'lookupToken' | 'revokeToken';

/** A client of the token plane, local (the owner's socket) or remote (BELLA_SERVER). */
export interface TokenPlaneClient {
  call<K extends TokenOperation>(
    name: K,
    input: OperationInput<K>,
    options: { token: string },
  ): Promise<OperationOutput<K>>;
  close(): void;
}

/** What the holder is told when no daemon it can reach knows the token. */
export const NO_HOLDER_DAEMON = 'no daemon here holds this lease: set BELLA_SERVER to the address its owner gave you';

/** A token from --token or BELLA_TOKEN, checked for its shape before anything is sent. */
export function requireToken(cli: CliSession, flag: unknown): string {
  const token = cli.token(flag);
  if (!token) throw new UsageError('no token: pass --token bax-… or set BELLA_TOKEN');
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

/**
 * The one way every token-plane call is made (`run`/`pull`/`secrets get` with a token,
 * `token lookup|revoke`). It never starts a daemon: a token belongs to a daemon that already
 * exists. The local socket is used unless BELLA_SERVER names a remote token plane.
 */
export async function tokenPlane(cli: CliSession, opts: Record<string, unknown> = {}): Promise<TokenPlaneClient> {
  const server = (typeof opts.server === 'string' ? opts.server : cli.io.env.BELLA_SERVER)?.trim();
  if (server) {
    const fingerprint = (
      typeof opts.fingerprint === 'string' ? opts.fingerprint : cli.io.env.BELLA_SERVER_FINGERPRINT
    )?.trim();
    // Loaded only here: TLS and pinning are for holders on other machines.
    const { RemoteClient } = await import('../client/remote');
    return new RemoteClient({ server, ...(fingerprint ? { fingerprint } : {}) });
  }
  const client = await cli.existing();
  return {
    async call(name, input, options) {
      try {
        return await client.call(name, input, options);
      } catch (err) {
        // No daemon answering, or one that has never seen this lease: it lives elsewhere.
        if (isBellaError(err, 'unavailable', 'unauthenticated')) {
          throw new BellaError(err.code, NO_HOLDER_DAEMON);
        }
        throw err;
      }
    },
    close: () => client.close(),
  };
}

/**
 * Guards against a token silently overriding what the user named: with an explicit -p/-e, the
 * token's lease must be of that project and environment (checked before any secret is read).
 */
export async function checkTokenMatches(
  plane: TokenPlaneClient,
  token: string,
  named: { project?: string; environment?: string },
): Promise<void> {
  if (!named.project && !named.environment) return;
  const { lease } = await plane.call('lookupToken', {}, { token });
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

/** -p/-e exactly as typed on the command line (not from .bella). */
export function explicitRef(opts: Record<string, unknown>): Partial<EnvironmentRef> {
  return {
    project: typeof opts.project === 'string' ? opts.project : undefined,
    environment: typeof opts.environment === 'string' ? opts.environment : undefined,
  };
}
