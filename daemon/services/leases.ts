import {
  BellaError,
  formatDuration,
  type HolderLease,
  type Lease,
  type LeaseStatus,
  type OperationArgs,
  type OperationOutput,
} from '../api';
import type { AuditInput } from '../store';
import {
  hashToken,
  own,
  randomId,
  tokenSecret,
  type ArchivedLease,
  type LeaseArchive,
  type State,
  type StoredLease,
} from '../store';
import { checkFilterExists } from './audit';
import { iso, type Actor, type ServiceContext } from './context';
import { findEnvironment } from './lookup';
import { scopeMatcher, unmatchedEntries } from './scope';
import type { SecretsService } from './secrets';
import { TokenChecker, TokenRefusal, type Authenticated } from './tokens';

/** The ttl of a lease when neither the request nor a policy names one. */
export const DEFAULT_TTL_SECONDS = 3600;

/** The status a lease has right now: an active lease past its expiry is expired, timer or not. */
export function effectiveStatus(lease: ArchivedLease, now: number): LeaseStatus {
  return lease.status === 'active' && now >= lease.expiresAt ? 'expired' : lease.status;
}

/** The lease as its owner sees it. */
export function toLease(lease: ArchivedLease, now: number): Lease {
  const status = effectiveStatus(lease, now);
  const endedAt = lease.endedAt ?? (status === 'expired' ? lease.expiresAt : null);
  return {
    id: lease.id,
    project: lease.project,
    environment: lease.environment,
    scope: lease.scope,
    reason: lease.reason,
    issuedAt: iso(lease.issuedAt),
    expiresAt: iso(lease.expiresAt),
    status,
    renewals: lease.renewals,
    lastUsedAt: lease.lastUsedAt === null ? null : iso(lease.lastUsedAt),
    endedAt: endedAt === null ? null : iso(endedAt),
    endReason: lease.endReason ?? (status === 'expired' ? 'expired' : null),
  };
}

/** The lease as its token's holder sees it. */
export function toHolderLease(lease: StoredLease, now: number): HolderLease {
  return {
    id: lease.id,
    project: lease.project,
    environment: lease.environment,
    scope: lease.scope,
    issuedAt: iso(lease.issuedAt),
    expiresAt: iso(lease.expiresAt),
    status: effectiveStatus(lease, now),
    uses: lease.uses ?? 0,
    lastUsedAt: lease.lastUsedAt === null ? null : iso(lease.lastUsedAt),
  };
}

/** Ends a lease inside a transaction and returns its audit entry. */
export function endLease(
  lease: StoredLease,
  status: 'revoked' | 'expired',
  at: number,
  reason: string,
  actor: Actor,
): AuditInput {
  lease.status = status;
  lease.endedAt = at;
  lease.endReason = reason;
  return {
    event: status === 'revoked' ? 'LeaseRevoked' : 'LeaseExpired',
    outcome: 'Success',
    actor,
    project: lease.project,
    environment: lease.environment,
    leaseId: lease.id,
    reason,
    ...(status === 'expired' ? { at } : {}),
  };
}

/** The leases named by audit entries: what a transaction that ended leases touched. */
export function leaseIdsOf(audit: AuditInput[]): string[] {
  return audit.flatMap((a) => (a.leaseId ? [a.leaseId] : []));
}

/** Leases: issue, list, renew, revoke, expire-all, and reading secrets with a token. */
export class LeasesService {
  private readonly tokens: TokenChecker;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly secrets: SecretsService,
    private readonly archive: LeaseArchive,
  ) {
    this.tokens = new TokenChecker(ctx.store.keys.tokenKey);
  }

  private get now(): number {
    return this.ctx.clock();
  }

  async issue(args: OperationArgs<'issueLease'>): Promise<OperationOutput<'issueLease'>> {
    const out = await this.ctx.store.transact((state) => {
      const now = this.now;
      const env = findEnvironment(state, args.project, args.environment);
      const keys = Object.keys(env.secrets).sort();
      const unmatched = unmatchedEntries(args.scope, keys);
      if (unmatched.length) {
        throw new BellaError(
          'invalid_argument',
          keys.length
            ? `scope ${unmatched.join(', ')} matches no key in ${args.project}/${args.environment}; its keys: ${keys.join(', ')}`
            : `${args.project}/${args.environment} has no secrets yet: add the keys the lease should read first`,
          { unmatched, keys },
        );
      }
      const policyTtl = env.policy?.ttlSeconds;
      let ttl = args.ttlSeconds ?? policyTtl ?? DEFAULT_TTL_SECONDS;
      let capped: OperationOutput<'issueLease'>['capped'] = null;
      if (policyTtl !== undefined && ttl > policyTtl) {
        capped = { requestedSeconds: ttl, policySeconds: policyTtl };
        ttl = policyTtl;
      }
      const id = randomId(16);
      const secret = tokenSecret();
      const lease: StoredLease = {
        id,
        project: args.project,
        environment: args.environment,
        scope: [...new Set(args.scope)],
        reason: args.reason,
        issuedAt: now,
        expiresAt: now + ttl * 1000,
        ttlSeconds: ttl,
        status: 'active',
        renewals: 0,
        renewedAt: null,
        lastUsedAt: null,
        endedAt: null,
        endReason: null,
        // Only a keyed hash is kept: the state file alone never yields a usable token.
        tokenHash: hashToken(this.ctx.store.keys.tokenKey, id, secret),
        epoch: env.tokenEpoch,
        warnedFor: null,
        uses: 0,
      };
      state.leases.set(id, lease);
      return {
        result: { lease, token: `bax-${id}-${secret}`, capped },
        touched: { leases: [id] },
        audit: [
          {
            event: 'LeaseIssued',
            outcome: 'Success',
            actor: 'owner',
            project: args.project,
            environment: args.environment,
            leaseId: id,
            keys: lease.scope,
            reason: args.reason,
            message: `ttl ${formatDuration(ttl)}${capped ? ` (requested ${formatDuration(capped.requestedSeconds)}, capped by policy)` : ''}`,
          },
        ],
      };
    });
    this.ctx.watcher.changed(out.lease);
    this.emit('LeaseIssued', out.lease);
    return { lease: toLease(out.lease, this.now), token: out.token, capped: out.capped };
  }

  /** Newest first; archived leases (past retention) come last when ended leases are asked for. */
  async list(args: OperationArgs<'listLeases'>): Promise<OperationOutput<'listLeases'>> {
    const now = this.now;
    const limit = args.limit ?? 500;
    const offset = args.cursor ?? 0;
    const hot = [...this.ctx.store.state.leases.values()];
    const wantsEnded = args.all || (args.status !== undefined && args.status !== 'active');
    const archived = wantsEnded
      ? (await this.archive.readAll()).filter((l) => !this.ctx.store.state.leases.has(l.id))
      : [];
    const page: Lease[] = [];
    let total = 0;
    for (const source of [hot, archived]) {
      for (let i = source.length - 1; i >= 0; i--) {
        const lease = source[i]!;
        if (args.project && lease.project !== args.project) continue;
        if (args.environment && lease.environment !== args.environment) continue;
        const status = effectiveStatus(lease, now);
        if (args.status ? status !== args.status : !args.all && status !== 'active') continue;
        if (total >= offset && page.length < limit) page.push(toLease(lease, now));
        total++;
      }
    }
    // A typo in a filter is a mistake, not an empty list; a deleted project's ended leases still show.
    if (total === 0) checkFilterExists(this.ctx, args);
    return { leases: page, total, nextCursor: offset + page.length < total ? offset + page.length : null };
  }

  get(args: OperationArgs<'getLease'>): OperationOutput<'getLease'> {
    return { lease: toLease(this.find(this.ctx.store.state, args.id), this.now) };
  }

  private find(state: State, id: string): StoredLease {
    const lease = state.leases.get(id);
    if (!lease) throw new BellaError('not_found', `no lease ${id}; list leases with \`bella leases list --all\``);
    return lease;
  }

  private requireActive(lease: StoredLease, now: number, action: string): void {
    const status = effectiveStatus(lease, now);
    if (status === 'revoked') {
      throw new BellaError(
        'conflict',
        `lease ${lease.id} was revoked at ${iso(lease.endedAt ?? now)}; it cannot be ${action}: issue a new lease`,
      );
    }
    if (status === 'expired') {
      throw new BellaError(
        'conflict',
        `lease ${lease.id} expired at ${iso(lease.expiresAt)}; it cannot be ${action}: issue a new lease`,
      );
    }
  }

  async renew(args: OperationArgs<'renewLease'>): Promise<OperationOutput<'renewLease'>> {
    const out = await this.ctx.store.transact((state) => {
      const now = this.now;
      const lease = this.find(state, args.id);
      this.requireActive(lease, now, 'renewed');
      const policyTtl = findEnvironment(state, lease.project, lease.environment).policy?.ttlSeconds;
      let ttl = args.ttlSeconds ?? policyTtl ?? lease.ttlSeconds;
      let capped: OperationOutput<'renewLease'>['capped'] = null;
      if (policyTtl !== undefined && ttl > policyTtl) {
        capped = { requestedSeconds: ttl, policySeconds: policyTtl };
        ttl = policyTtl;
      }
      lease.expiresAt = now + ttl * 1000;
      lease.renewals += 1;
      lease.renewedAt = now;
      return {
        result: { lease, capped },
        touched: { leases: [lease.id] },
        audit: [
          {
            event: 'LeaseRenewed',
            outcome: 'Success',
            actor: 'owner',
            project: lease.project,
            environment: lease.environment,
            leaseId: lease.id,
            message: `extended to ${iso(lease.expiresAt)} (ttl ${formatDuration(ttl)})`,
          },
        ],
      };
    });
    this.ctx.watcher.changed(out.lease);
    this.emit('LeaseRenewed', out.lease);
    return { lease: toLease(out.lease, this.now), capped: out.capped };
  }

  async revoke(args: OperationArgs<'revokeLease'>): Promise<OperationOutput<'revokeLease'>> {
    const ended = await this.end(args.id, args.reason || 'revoked by owner', 'owner');
    return { lease: toLease(ended.lease, this.now), alreadyEnded: ended.alreadyEnded };
  }

  /** Revokes a lease at once; a lease that already ended (revoked or expired) is left as it is. */
  private async end(id: string, reason: string, actor: Actor): Promise<{ lease: StoredLease; alreadyEnded: boolean }> {
    const out = await this.ctx.store.transact((state) => {
      const now = this.now;
      const lease = this.find(state, id);
      if (effectiveStatus(lease, now) !== 'active') return { result: { lease, alreadyEnded: true }, audit: [] };
      return {
        result: { lease, alreadyEnded: false },
        audit: [endLease(lease, 'revoked', now, reason, actor)],
        touched: { leases: [lease.id] },
      };
    });
    if (!out.alreadyEnded) {
      this.ctx.watcher.ended(out.lease.id);
      this.emit('LeaseRevoked', out.lease);
    }
    return out;
  }

  async expireAll(args: OperationArgs<'expireAll'>): Promise<OperationOutput<'expireAll'>> {
    const now = this.now;
    const out = await this.ctx.store.transact((state) => {
      const env = findEnvironment(state, args.project, args.environment);
      const audit: AuditInput[] = [];
      const revoked: string[] = [];
      for (const lease of state.leases.values()) {
        if (lease.project !== args.project || lease.environment !== args.environment || lease.status !== 'active')
          continue;
        if (now >= lease.expiresAt) {
          audit.push(endLease(lease, 'expired', lease.expiresAt, 'expired', 'daemon'));
        } else {
          audit.push(endLease(lease, 'revoked', now, `expire-all: ${args.reason || 'credentials rotated'}`, 'owner'));
          revoked.push(lease.id);
        }
      }
      const reencrypted = this.secrets.rotate(state, args.project, args.environment);
      // A new epoch: no token minted before this instant can ever pass again.
      env.tokenEpoch += 1;
      env.rotatedAt = now;
      audit.push({
        event: 'LeasesExpiredAll',
        outcome: 'Success',
        actor: 'owner',
        project: args.project,
        environment: args.environment,
        ...(args.reason ? { reason: args.reason } : {}),
        message: `${revoked.length} leases revoked, data key rotated (${reencrypted} secrets re-encrypted)`,
      });
      const ended = leaseIdsOf(audit);
      return { result: { revoked, reencrypted }, audit, touched: { leases: ended, projects: [args.project] } };
    });
    for (const id of out.revoked) this.ctx.watcher.ended(id);
    this.ctx.events.emit({
      type: 'LeasesExpiredAll',
      at: iso(now),
      project: args.project,
      environment: args.environment,
      leaseIds: out.revoked,
    });
    return { revoked: out.revoked.length, rotatedAt: iso(now), reencryptedSecrets: out.reencrypted };
  }

  /** Writes a Denied entry for a refused token and rethrows its error. */
  private async refuse(refusal: TokenRefusal, fields: Partial<AuditInput> = {}): Promise<never> {
    const lease = refusal.lease;
    await this.ctx.store.audit.append([
      {
        event: 'SecretsRead',
        outcome: 'Denied',
        actor: 'token',
        message: refusal.auditMessage,
        ...(lease ? { project: lease.project, environment: lease.environment, leaseId: lease.id } : {}),
        ...fields,
      },
    ]);
    throw refusal.error;
  }

  private authenticate(token: string | undefined, usable: boolean): Promise<Authenticated> | Authenticated {
    try {
      return this.tokens.check(this.ctx.store.state, token, this.now, usable);
    } catch (err) {
      if (err instanceof TokenRefusal) return this.refuse(err);
      throw err;
    }
  }

  /** The token plane: the lease's scoped secrets for a valid token; every attempt audited. */
  async readWithToken(
    token: string | undefined,
    args: OperationArgs<'readSecrets'>,
  ): Promise<OperationOutput<'readSecrets'>> {
    const { lease, env } = await this.authenticate(token, true);
    const now = this.now;
    const where = { project: lease.project, environment: lease.environment, leaseId: lease.id };
    const inScope = scopeMatcher(lease.scope);
    let keys = Object.keys(env.secrets).filter(inScope).sort();
    if (args.keys) {
      const outside = args.keys.filter((k) => !inScope(k));
      if (outside.length) {
        return this.refuse(
          new TokenRefusal(
            new BellaError(
              'permission_denied',
              `${outside.join(', ')} ${outside.length > 1 ? 'are' : 'is'} outside this token's scope (${lease.scope.join(', ')})`,
            ),
            lease,
            'outside scope',
          ),
          { ...where, keys: outside },
        );
      }
      const missing = args.keys.filter((k) => !own(env.secrets, k));
      if (missing.length) {
        return this.refuse(
          new TokenRefusal(
            new BellaError('not_found', `no secret ${missing.join(', ')} in ${lease.project}/${lease.environment}`),
            lease,
            'no such secret',
          ),
          { ...where, keys: missing },
        );
      }
      keys = [...new Set(args.keys)];
    }
    const secrets = this.secrets.reveal(lease.project, lease.environment, env, keys);
    await this.secrets.auditRead(lease.project, lease.environment, keys, 'token', lease.id);
    // Last use is informational: kept in memory and persisted with the next commit.
    lease.lastUsedAt = now;
    lease.uses = (lease.uses ?? 0) + 1;
    return {
      project: lease.project,
      environment: lease.environment,
      leaseId: lease.id,
      expiresAt: iso(lease.expiresAt),
      secrets,
    };
  }

  /** The holder's own lease, ended or not. */
  async lookupToken(token: string | undefined): Promise<OperationOutput<'lookupToken'>> {
    const { lease } = await this.authenticate(token, false);
    return { lease: toHolderLease(lease, this.now) };
  }

  /** The holder ends its own lease; one that already ended is left as it is. */
  async revokeWithToken(
    token: string | undefined,
    args: OperationArgs<'revokeToken'>,
  ): Promise<OperationOutput<'revokeToken'>> {
    const { lease } = await this.authenticate(token, false);
    const ended = await this.end(lease.id, args.reason || 'revoked by its holder', 'token');
    return { lease: toHolderLease(ended.lease, this.now), alreadyEnded: ended.alreadyEnded };
  }

  private emit(type: 'LeaseIssued' | 'LeaseRenewed' | 'LeaseRevoked', lease: StoredLease): void {
    this.ctx.events.emit({
      type,
      at: iso(this.now),
      project: lease.project,
      environment: lease.environment,
      leaseIds: [lease.id],
      expiresAt: iso(lease.expiresAt),
    });
  }
}
