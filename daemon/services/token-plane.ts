import { BellaError, type OperationArgs, type OperationOutput } from '../api';
import { iso } from '../base/common/time';
import { own } from '../store';
import { effectiveStatus } from '../base/common/lease-status';
import type { LeaseLifecycle } from './lease-lifecycle';
import { toHolderLease } from './lease-rules';
import type { RefusalLog } from './refusals';
import { scopeMatcher } from '../base/common/scope';
import type { DbLogins } from './databases/logins';
import type { SecretsService } from './secrets';
import type { ServiceContext } from './service-context';
import { TokenVerifier, TokenRefusal, type Authenticated } from './token-verifier';

/** Who sent a token-plane request. */
export interface TokenRequest {
  token?: string;
  /** `socket` for the owner's socket, the peer's address on the TLS listener. */
  source: string;
}

/**
 * The token plane: what a `bax-` token's holder may do — read the lease's scoped secrets, look up
 * and end its own lease. Every read is audited before it is answered; refusals through the
 * {@link RefusalLog}, so a flood of bad tokens cannot grow the trail at will.
 */
export class TokenPlaneService {
  private readonly verifier: TokenVerifier;
  /**
   * A lease's scope compiled once (a set and, for globs, regular expressions), by the scope's
   * array: the lease table keeps one frozen array per distinct scope (an entry goes with its array).
   */
  private readonly matchers = new WeakMap<readonly string[], (key: string) => boolean>();

  constructor(
    private readonly ctx: ServiceContext,
    private readonly secrets: SecretsService,
    private readonly lifecycle: LeaseLifecycle,
    private readonly refusals: RefusalLog,
    private readonly dbLogins: DbLogins,
  ) {
    this.verifier = new TokenVerifier(ctx.store.keys.tokenKey);
  }

  /** The token's lease and environment; a refusal is the promise of its (audited) rejection. */
  private authenticate(req: TokenRequest, usable: boolean): Authenticated | Promise<never> {
    try {
      return this.verifier.check(this.ctx.store.state, req.token, this.ctx.clock(), usable);
    } catch (err) {
      if (err instanceof TokenRefusal) return this.refusals.refuse(req.source, err);
      throw err;
    }
  }

  /** The lease's scoped secrets (all, or the named `keys`), audited before they are answered. */
  async read(req: TokenRequest, args: OperationArgs<'readSecrets'>): Promise<OperationOutput<'readSecrets'>> {
    const found = this.authenticate(req, true);
    // A token that passed answers without waiting a turn; only a refusal is awaited.
    const { lease, env } = found instanceof Promise ? await found : found;
    const where = { project: lease.project, environment: lease.environment, leaseId: lease.id };
    const inScope = this.matcher(lease.scope);
    // A lease with `--db` has a key of its own (its login role's URL), not a secret of the environment.
    const dbKey = lease.database?.key;
    let keys = Object.keys(env.secrets)
      .filter((k) => k !== dbKey && inScope(k))
      .sort();
    if (args.keys) {
      const outside = args.keys.filter((k) => !inScope(k));
      if (outside.length) {
        const message = `${outside.join(', ')} ${outside.length > 1 ? 'are' : 'is'} outside this token's scope (${lease.scope.join(', ')})`;
        return this.refusals.refuse(
          req.source,
          new TokenRefusal(new BellaError('permission_denied', message), lease, 'outside scope'),
          { ...where, keys: outside },
        );
      }
      const missing = args.keys.filter((k) => k !== dbKey && !own(env.secrets, k));
      if (missing.length) {
        const message = `no secret ${missing.join(', ')} in ${lease.project}/${lease.environment}`;
        return this.refusals.refuse(
          req.source,
          new TokenRefusal(new BellaError('not_found', message), lease, 'no such secret'),
          { ...where, keys: missing },
        );
      }
      keys = [...new Set(args.keys)];
    } else if (dbKey) keys.push(dbKey);
    const secrets = this.secrets.revealScope(
      lease.project,
      lease.environment,
      env,
      dbKey ? keys.filter((k) => k !== dbKey) : keys,
    );
    if (dbKey && keys.includes(dbKey)) secrets[dbKey] = this.dbLogins.url(lease, env);
    await this.ctx.store.record([
      { event: 'SecretsRead', outcome: 'Success', actor: 'token', source: req.source, ...where, keys },
    ]);
    // Last use is informational: kept in memory and persisted by the next commit or anchor.
    this.ctx.store.state.leases.recordUse(lease.id, this.ctx.clock());
    this.ctx.store.markUsed(lease.id);
    return { ...where, leaseId: lease.id, expiresAt: iso(lease.expiresAt), secrets };
  }

  private matcher(scope: string[]): (key: string) => boolean {
    let matcher = this.matchers.get(scope);
    if (!matcher) {
      matcher = scopeMatcher(scope);
      this.matchers.set(scope, matcher);
    }
    return matcher;
  }

  /** The holder's own lease, ended or not. */
  async lookup(req: TokenRequest): Promise<OperationOutput<'lookupToken'>> {
    const { lease } = await this.authenticate(req, false);
    return { lease: toHolderLease(lease, this.ctx.clock()) };
  }

  /** The holder ends its own lease at once; one that already ended is left as it is. */
  async revoke(req: TokenRequest, args: OperationArgs<'revokeToken'>): Promise<OperationOutput<'revokeToken'>> {
    const { lease } = await this.authenticate(req, false);
    const alreadyEnded = await this.lifecycle.transact((state, changes) => {
      const current = state.leases.get(lease.id);
      if (!current || effectiveStatus(current, changes.now) !== 'active') return { result: true };
      changes.end(current, 'revoked', args.reason || `revoked by its holder (${req.source})`, 'token');
      return { result: false };
    }, 'release');
    return { lease: toHolderLease(lease, this.ctx.clock()), alreadyEnded };
  }
}
