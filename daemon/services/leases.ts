import { acting, caller } from './team/caller';
import { BellaError, type Lease, type OperationArgs, type OperationOutput } from '../api';
import { iso } from '../base/common/time';
import type { LeaseFields, State, StoredLease } from '../store';
import { checkFilterExists } from './audit';
import { effectiveStatus } from '../base/common/lease-status';
import type { LeaseLifecycle } from './lease-lifecycle';
import { toLease } from './lease-rules';
import { findEnvironment } from './lookup';
import type { DatabasesService } from './databases/databases';
import type { DbLogins } from './databases/logins';
import type { Rotations } from './databases/rotation';
import type { SecretsService } from './secrets';
import type { ServiceContext } from './service-context';

/** How long `revoke` waits for a lease's database login role to be dropped before answering. */
const REVOKE_WAIT_MS = 5000;

/** Leases as their owner manages them: issue, list, show, renew, revoke, expire-all. */
export class LeasesService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly secrets: SecretsService,
    private readonly lifecycle: LeaseLifecycle,
    private readonly databases: DatabasesService,
    private readonly dbLogins: DbLogins,
    private readonly rotations: Rotations,
  ) {}

  private get now(): number {
    return this.ctx.clock();
  }

  /** Issues a lease; how a holder elsewhere reaches the token plane is the server's to add. */
  async issue(
    args: OperationArgs<'issueLease'>,
  ): Promise<Omit<OperationOutput<'issueLease'>, 'server' | 'fingerprint' | 'serverNote' | 'pinnedPublicKey'>> {
    const out = await this.lifecycle.transact((state, changes, touched) => {
      const who = caller();
      // Durable first: the lease and its "drop this role" job commit together, before CREATE ROLE.
      const issued = this.dbLogins.issue(state, changes, touched, {
        ...args,
        actor: acting(),
        ...(who.kind === 'member' ? { by: who.member.id } : {}),
      });
      return { result: issued };
    });
    if (out.login) await this.dbLogins.create(out.lease, out.login);
    return { lease: toLease(out.lease, this.now), token: out.token, capped: out.capped };
  }

  /** Newest first; archived leases (past retention) come last when ended leases are asked for. */
  async list(args: OperationArgs<'listLeases'>): Promise<OperationOutput<'listLeases'>> {
    const now = this.now;
    const limit = args.limit ?? 500;
    const offset = args.cursor ?? 0;
    const wantsEnded = args.all || (args.status !== undefined && args.status !== 'active');
    const archived = wantsEnded
      ? this.ctx.store.archive.readAll().filter((l) => !this.ctx.store.state.leases.has(l.id))
      : [];
    const page: Lease[] = [];
    let total = 0;
    // A member sees her own leases only (issue 17); admins and the owner see all.
    const who = caller();
    const mine = who.kind === 'member' && who.member.role === 'member' ? who.member.id : null;
    const wanted = (lease: LeaseFields): boolean => {
      if (args.project && lease.project !== args.project) return false;
      if (args.environment && lease.environment !== args.environment) return false;
      if (mine !== null && lease.by !== mine) return false;
      const status = effectiveStatus(lease, now);
      return args.status ? status === args.status : args.all || status === 'active';
    };
    // Newest first; the hot leases through the table's cursor (nothing allocated per row: a page
    // scans every lease), so only the page's leases are built.
    this.ctx.store.state.leases.scan((row) => {
      if (!wanted(row)) return;
      if (total >= offset && page.length < limit) page.push(toLease(row.lease(), now));
      total++;
    }, true);
    for (let i = archived.length - 1; i >= 0; i--) {
      const lease = archived[i]!;
      if (!wanted(lease)) continue;
      if (total >= offset && page.length < limit) page.push(toLease(lease, now));
      total++;
    }
    // A typo in a filter is a mistake, not an empty list; a deleted project's ended leases still show.
    if (total === 0) checkFilterExists(this.ctx, args);
    return { leases: page, total, nextCursor: offset + page.length < total ? offset + page.length : null };
  }

  get(args: OperationArgs<'getLease'>): OperationOutput<'getLease'> {
    return { lease: toLease(find(this.ctx.store.state, args.id), this.now) };
  }

  async renew(args: OperationArgs<'renewLease'>): Promise<OperationOutput<'renewLease'>> {
    const out = await this.lifecycle.transact((state, changes) => {
      const lease = find(state, args.id);
      const status = effectiveStatus(lease, changes.now);
      if (status !== 'active') {
        const when =
          status === 'revoked'
            ? `was revoked at ${iso(lease.endedAt ?? changes.now)}`
            : `expired at ${iso(lease.expiresAt)}`;
        throw new BellaError('conflict', `lease ${lease.id} ${when}; it cannot be renewed: issue a new lease`);
      }
      const policy = findEnvironment(state, lease.project, lease.environment).policy;
      return { result: { lease, capped: changes.renew(lease, policy, args.ttlSeconds) } };
    });
    const credentialWarning = await this.dbLogins.extend(out.lease);
    return {
      lease: toLease(out.lease, this.now),
      capped: out.capped,
      ...(credentialWarning ? { credentialWarning } : {}),
    };
  }

  /** Revokes a lease at once; a lease that already ended (revoked or expired) is left as it is. */
  async revoke(args: OperationArgs<'revokeLease'>): Promise<OperationOutput<'revokeLease'>> {
    const out = await this.lifecycle.transact((state, changes) => {
      const lease = find(state, args.id);
      if (effectiveStatus(lease, changes.now) !== 'active') return { result: { lease, alreadyEnded: true } };
      changes.end(lease, 'revoked', args.reason || 'revoked by owner', acting());
      return { result: { lease, alreadyEnded: false } };
    }, 'release');
    const lease = toLease(out.lease, this.now);
    const user = out.lease.database?.user;
    if (!user) return { lease, alreadyEnded: out.alreadyEnded };
    // The end is real once the role is gone: wait a little for the drop, then say where it stands.
    const dropped = await this.dbLogins.waitDropped(user, REVOKE_WAIT_MS);
    if (!dropped && args.force) await this.dbLogins.abandon(user);
    const error = this.ctx.store.state.dbLogins.get(user)?.lastError ?? null;
    return {
      lease,
      alreadyEnded: out.alreadyEnded,
      credential: { user, dropped, abandoned: !dropped && Boolean(args.force), error: dropped ? null : error },
    };
  }

  /**
   * Revokes every active lease of an environment and rotates its credentials: a new data key
   * (secrets re-encrypted) and a new token epoch, so no token minted before ever passes again.
   */
  async expireAll(args: OperationArgs<'expireAll'>): Promise<OperationOutput<'expireAll'>> {
    const out = await this.lifecycle.transact((state, changes, touched) => {
      const env = findEnvironment(state, args.project, args.environment);
      const reason = `expire-all: ${args.reason || 'credentials rotated'}`;
      const revoked = changes.expireAll(args.project, args.environment, reason, acting());
      // The databases' admin URLs are sealed with the data key too: opened before, sealed after.
      const urls = this.databases.openUrls(state, args.project, args.environment);
      const reencrypted = this.secrets.rotate(state, touched, args.project, args.environment);
      this.databases.resealUrls(state, touched, urls);
      // A new epoch: no token minted before this instant can ever pass again.
      env.tokenEpoch += 1;
      env.rotatedAt = changes.now;
      return {
        result: { revoked, reencrypted, at: changes.now },
        audit: [
          {
            event: 'LeasesExpiredAll',
            outcome: 'Success',
            actor: acting(),
            project: args.project,
            environment: args.environment,
            ...(args.reason ? { reason: args.reason } : {}),
            message: `${revoked.length} leases revoked, data key rotated (${reencrypted.secrets} secrets re-encrypted${reencrypted.versions ? `, ${reencrypted.versions} earlier versions with them` : ''})`,
          },
        ],
      };
    }, 'release');
    const done = { revoked: out.revoked.length, rotatedAt: iso(out.at), reencryptedSecrets: out.reencrypted.secrets };
    // After the commit: the leases are ended whatever a database answers; each rotation is its own step.
    return args.rotate
      ? { ...done, ...(await this.rotations.rotateEnvironment(args.project, args.environment)) }
      : done;
  }
}

function find(state: State, id: string): StoredLease {
  const lease = state.leases.get(id);
  if (!lease) throw new BellaError('not_found', `no lease ${id}; list leases with \`bella leases list --all\``);
  return lease;
}
