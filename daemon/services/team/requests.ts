import {
  BellaError,
  formatDuration,
  type AccessRequest,
  type IssuedLease,
  type OperationArgs,
  type OperationOutput,
} from '../../api';
import { iso } from '../../base/common/time';
import {
  open,
  seal,
  type AuditInput,
  type State,
  type StoredAccessRequest,
  type StoredLease,
  type Touched,
} from '../../store';
import type { ChannelsService } from '../channels';
import { resolveDbRef, type DbLogins } from '../databases/logins';
import type { DesktopNotificationsService } from '../desktop-notifications';
import type { LeaseLifecycle } from '../lease-lifecycle';
import { toLease } from '../lease-rules';
import { findScopedEnvironment } from '../lookup';
import { DeadlineScheduler } from '../deadlines';
import type { ServiceContext } from '../service-context';
import { acting, caller } from './caller';
import {
  bypassedEntry,
  decisionEntry,
  event,
  expiredEntry,
  nameOf,
  newRequest,
  notApproved,
  statusOf,
  requestedEntry,
  store,
  tokenAad,
  view,
  what,
} from './request-records';

/** Issued, as the service answers it: the server adds where a holder reaches it. */
type Issued = Omit<IssuedLease, 'server' | 'fingerprint' | 'serverNote' | 'pinnedPublicKey'>;
/** A decision's outcome: the request, and the error to throw once its expiry (if found) is committed. */
type Decided = { request: StoredAccessRequest; error: BellaError | null };
type Fetched = { error: true; request: StoredAccessRequest } | { error: false; token: string; lease: StoredLease };

/**
 * Access requests (issue 17, items 4 and 5): a teammate asks for a lease, an approver (the owner
 * or an admin, never the requester) approves it, and the lease's clock starts then; or denies it
 * with a reason; or nobody answers within its window and it expires. Break-glass grants at once
 * where the environment's policy allows it, loudly, and waits for the owner's review.
 */
export class AccessRequestsService {
  /** One timer for the nearest window end of the pending requests. */
  private readonly windows: DeadlineScheduler<null>;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly lifecycle: LeaseLifecycle,
    private readonly desktop: DesktopNotificationsService,
    private readonly channels: ChannelsService,
    private readonly dbLogins: DbLogins,
  ) {
    this.windows = new DeadlineScheduler<null>({
      now: ctx.clock,
      onDue: (items) => void this.expire(items.map((i) => i.id)),
      onError: (err) => ctx.log(`request expiry error: ${String(err)}`),
      maxDelayMs: 60_000,
    });
    ctx.store.onReload(() => this.start());
  }

  /** Schedules the end of every pending request's window (those already past expire at once). */
  start(): void {
    this.windows.clear();
    for (const r of this.ctx.store.state.accessRequests.values()) {
      if (r.status === 'pending') this.windows.schedule(r.id, r.windowEndsAt, null);
    }
  }

  stop(): void {
    this.windows.stop();
  }

  /** Records the requests whose window passed unanswered as expired, each audited (`daemon`). */
  private async expire(ids: string[]): Promise<void> {
    try {
      await this.ctx.store.transact((state, touched) => {
        const now = this.ctx.clock();
        const audit: AuditInput[] = [];
        for (const id of ids) {
          const r = state.accessRequests.get(id);
          if (!r || r.status !== 'pending' || now < r.windowEndsAt) continue;
          r.status = 'expired';
          touched.record('accessRequest', r.id);
          audit.push(expiredEntry(r));
        }
        return { result: null, audit };
      }, 'release');
      this.changed();
    } catch (err) {
      this.ctx.log(`could not record expired requests (${(err as Error).message}); retrying in 1 s`);
      for (const id of ids) this.windows.schedule(id, this.ctx.clock() + 1000, null);
    }
  }

  async create(args: OperationArgs<'createAccessRequest'>): Promise<{ request: AccessRequest; issued: Issued | null }> {
    const who = caller();
    if (who.kind !== 'member') {
      throw new BellaError('invalid_argument', 'the owner issues leases directly: bella issue -p P -e E --scope …');
    }
    if (args.breakGlass) return this.breakGlass(args, who.member.id);
    const now = this.ctx.clock();
    const request = await this.ctx.store.transact((state, touched) => {
      findScopedEnvironment(state, args.project, args.environment, args.scope);
      // Checked now, not at approval: a database or role that does not exist is the asker's to fix.
      if (args.db) resolveDbRef(state, args.db, args.project, args.environment);
      const request = newRequest(args, who.member.id, now);
      store(state, touched, request);
      this.channels.fanOut(state, touched, [event('AccessRequested', request, now)]);
      return { result: request, audit: [requestedEntry(request)] };
    });
    this.channels.committed();
    this.windows.schedule(request.id, request.windowEndsAt, null);
    this.desktop.send(
      `${who.member.name} asks for access to ${request.project}/${request.environment}`,
      `${what(request)}${request.ttlSeconds ? ` for ${formatDuration(request.ttlSeconds)}` : ''}: ${request.reason}\nbella requests approve ${request.id}`,
      { project: request.project, environment: request.environment },
      `requests/${request.id}`,
    );
    this.changed();
    return { request: view(request, now), issued: null };
  }

  /** Grants at once, at most the policy's break-glass ttl; audited `PolicyBypassed`, announced everywhere. */
  private async breakGlass(
    args: OperationArgs<'createAccessRequest'>,
    memberId: string,
  ): Promise<{ request: AccessRequest; issued: Issued }> {
    const out = await this.lifecycle.transact((state, changes, touched) => {
      const env = findScopedEnvironment(state, args.project, args.environment, []);
      const limit = env.policy?.breakGlassSeconds;
      if (!limit) {
        throw new BellaError(
          'permission_denied',
          `break-glass is off for ${args.project}/${args.environment}: ask for approval instead (bella request without --break-glass), or the owner enables it (bella environments set-lease-policy … --break-glass-ttl 1h)`,
        );
      }
      const request = newRequest(args, memberId, changes.now);
      const issued = this.dbLogins.issue(state, changes, touched, {
        project: request.project,
        environment: request.environment,
        scope: request.scope,
        db: request.db,
        ttlSeconds: Math.min(args.ttlSeconds ?? limit, limit),
        reason: `break-glass: ${request.reason}`,
        actor: acting(),
        by: memberId,
      });
      Object.assign(request, {
        status: 'approved',
        breakGlass: true,
        decidedAt: changes.now,
        decidedBy: acting(),
        decision: 'break-glass',
        leaseId: issued.lease.id,
      });
      store(state, touched, request);
      this.channels.fanOut(state, touched, [event('BreakGlass', request, changes.now, issued.lease.expiresAt)]);
      return {
        result: { request, issued },
        audit: [bypassedEntry(request, limit)],
      };
    });
    const { request, issued } = out;
    this.desktop.send(
      `Break-glass: ${nameOf(request)} took access to ${request.project}/${request.environment}`,
      `${what(request)} until ${iso(issued.lease.expiresAt)}: ${request.reason}\nbella requests review ${request.id}`,
      undefined,
      `requests/${request.id}`,
    );
    this.changed();
    // The grant is announced whatever Postgres answers; a role that cannot be made revokes the lease.
    if (issued.login) await this.dbLogins.create(issued.lease, issued.login);
    const now = this.ctx.clock();
    return {
      request: view(request, now),
      issued: { token: issued.token, capped: issued.capped, lease: toLease(issued.lease, now) },
    };
  }

  list(args: OperationArgs<'listAccessRequests'>): OperationOutput<'listAccessRequests'> {
    const now = this.ctx.clock();
    const mine = ownOnly();
    const requests: AccessRequest[] = [];
    for (const r of [...this.ctx.store.state.accessRequests.values()].reverse()) {
      if (mine !== null && r.memberId !== mine) continue;
      if (args.status && statusOf(r, now) !== args.status) continue;
      if (args.unreviewed && !(r.breakGlass && r.reviewedAt === null)) continue;
      requests.push(view(r, now));
    }
    return { requests };
  }

  get(args: OperationArgs<'getAccessRequest'>): OperationOutput<'getAccessRequest'> {
    return { request: view(this.find(this.ctx.store.state, args.id), this.ctx.clock()) };
  }

  /** Issues the request's lease now (its clock starts at approval); its token waits sealed for the requester. */
  async approve(args: OperationArgs<'approveAccessRequest'>): Promise<OperationOutput<'approveAccessRequest'>> {
    const out = await this.lifecycle.transact<Decided & { issued?: ReturnType<DbLogins['issue']> }>(
      (state, changes, touched) => {
        const request = this.find(state, args.id);
        const refused = this.decidable(touched, request, changes.now);
        if (refused) return refused;
        if (args.ttlSeconds !== undefined && request.ttlSeconds !== null && args.ttlSeconds > request.ttlSeconds) {
          throw new BellaError(
            'invalid_argument',
            `--ttl may only shorten the request (${formatDuration(request.ttlSeconds)} was asked for)`,
          );
        }
        const requester = state.members.get(request.memberId);
        if (!requester || requester.removedAt !== null) {
          throw new BellaError(
            'conflict',
            `${nameOf(request)} is no longer in the team: her request cannot be approved`,
          );
        }
        const issued = this.dbLogins.issue(state, changes, touched, {
          project: request.project,
          environment: request.environment,
          scope: request.scope,
          db: request.db,
          ...((args.ttlSeconds ?? request.ttlSeconds) ? { ttlSeconds: (args.ttlSeconds ?? request.ttlSeconds)! } : {}),
          reason: request.reason,
          actor: acting(),
          by: request.memberId,
        });
        Object.assign(request, {
          status: 'approved',
          decidedAt: changes.now,
          decidedBy: acting(),
          decision: args.reason || null,
          leaseId: issued.lease.id,
          // Defends the token at rest: sealed with the wrap key until the requester fetches it.
          sealedToken: seal(this.ctx.store.keys.wrapKey, issued.token, tokenAad(request.id)),
        });
        touched.record('accessRequest', request.id);
        return {
          result: { request, error: null, issued },
          audit: [decisionEntry('AccessApproved', request, args.reason, `lease ${issued.lease.id} issued`)],
        };
      },
    );
    this.windows.cancel(out.request.id);
    if (out.error) throw out.error;
    // Its database login role, after the commit (the requester's token waits for it: settled()).
    this.changed();
    if (out.issued?.login) await this.dbLogins.create(out.issued.lease, out.issued.login);
    const now = this.ctx.clock();
    const lease = this.ctx.store.state.leases.get(out.request.leaseId!)!;
    return { request: view(out.request, now), lease: toLease(lease, now) };
  }

  async deny(args: OperationArgs<'denyAccessRequest'>): Promise<OperationOutput<'denyAccessRequest'>> {
    const out = await this.ctx.store.transact<Decided>((state, touched) => {
      const request = this.find(state, args.id);
      const refused = this.decidable(touched, request, this.ctx.clock());
      if (refused) return refused;
      Object.assign(request, {
        status: 'denied',
        decidedAt: this.ctx.clock(),
        decidedBy: acting(),
        decision: args.reason,
      });
      touched.record('accessRequest', request.id);
      return {
        result: { request, error: null },
        audit: [decisionEntry('AccessDenied', request, args.reason, 'denied')],
      };
    });
    this.windows.cancel(out.request.id);
    if (out.error) throw out.error;
    this.changed();
    return { request: view(out.request, this.ctx.clock()) };
  }

  /** The approved request's token, once, for its requester; dropped from the store as it is handed over. */
  async token(args: OperationArgs<'fetchRequestToken'>): Promise<Issued> {
    const who = caller();
    const leaseId = this.ctx.store.state.accessRequests.get(args.id)?.leaseId;
    await this.dbLogins.settled(leaseId ? this.ctx.store.state.leases.get(leaseId) : undefined);
    const out = await this.ctx.store.transact<Fetched>((state, touched) => {
      const request = this.find(state, args.id);
      if (who.kind !== 'member' || who.member.id !== request.memberId) {
        throw new BellaError('permission_denied', `only ${nameOf(request)} fetches the token of request ${request.id}`);
      }
      const status = statusOf(request, this.ctx.clock());
      if (status !== 'approved') throw notApproved(request, status);
      const lease = request.leaseId ? state.leases.get(request.leaseId) : undefined;
      const sealed = request.sealedToken;
      if (sealed === null) {
        throw new BellaError(
          'conflict',
          `the token of request ${request.id} was already handed over (once only): ask again (bella request) if it is lost`,
        );
      }
      request.sealedToken = null;
      touched.record('accessRequest', request.id);
      if (!lease || lease.status !== 'active' || lease.expiresAt <= this.ctx.clock()) {
        return { result: { error: true as const, request }, audit: [] };
      }
      const token = open(this.ctx.store.keys.wrapKey, sealed, tokenAad(request.id)).toString('utf8');
      return {
        result: { error: false as const, token, lease },
        audit: [
          {
            event: 'AccessTokenFetched',
            outcome: 'Success',
            actor: acting(),
            project: request.project,
            environment: request.environment,
            leaseId: lease.id,
            message: `token of request ${request.id} handed over (and dropped from the store)`,
          },
        ],
      };
    });
    if (out.error) {
      throw new BellaError('conflict', `the lease of request ${out.request.id} has ended: ask again (bella request)`);
    }
    return { lease: toLease(out.lease, this.ctx.clock()), token: out.token, capped: null };
  }

  /** The owner acknowledges a break-glass grant. */
  async review(args: OperationArgs<'reviewAccessRequest'>): Promise<OperationOutput<'reviewAccessRequest'>> {
    const request = await this.ctx.store.transact((state, touched) => {
      const request = this.find(state, args.id);
      if (!request.breakGlass) {
        throw new BellaError(
          'invalid_argument',
          `request ${request.id} was not a break-glass grant: nothing to review`,
        );
      }
      if (request.reviewedAt !== null) return { result: request, audit: [] };
      request.reviewedAt = this.ctx.clock();
      request.reviewedBy = acting();
      touched.record('accessRequest', request.id);
      return {
        result: request,
        audit: [
          {
            event: 'BreakGlassReviewed',
            outcome: 'Success',
            actor: acting(),
            project: request.project,
            environment: request.environment,
            ...(request.leaseId ? { leaseId: request.leaseId } : {}),
            ...(args.note ? { reason: args.note } : {}),
            message: `reviewed break-glass request ${request.id} of ${nameOf(request)}`,
          },
        ],
      };
    });
    this.changed();
    return { request: view(request, this.ctx.clock()) };
  }

  /** A request the caller may see (a member: her own), or not_found. */
  private find(state: State, id: string): StoredAccessRequest {
    const request = state.accessRequests.get(id);
    const mine = ownOnly();
    if (!request || (mine !== null && request.memberId !== mine)) {
      throw new BellaError('not_found', `no access request ${id}: see bella requests list`);
    }
    return request;
  }

  /**
   * Null when the caller may decide `request` now; else the error to throw once the transaction
   * committed (a pending request found past its window is recorded expired first).
   */
  private decidable(
    touched: Touched,
    request: StoredAccessRequest,
    now: number,
  ): { result: Decided; audit: AuditInput[] } | null {
    const who = caller();
    if (who.kind === 'member' && who.member.id === request.memberId) {
      throw new BellaError('permission_denied', 'no one approves or denies their own request: ask another approver');
    }
    const status = statusOf(request, now);
    if (status === 'pending') return null;
    if (status === 'expired' && request.status === 'pending') {
      request.status = 'expired';
      touched.record('accessRequest', request.id);
      return {
        result: { request, error: notApproved(request, status) },
        audit: [expiredEntry(request)],
      };
    }
    throw notApproved(request, status);
  }

  private changed(): void {
    this.ctx.events.emit({ type: 'DataChanged', at: iso(this.ctx.clock()), resource: 'requests' });
  }
}

/** A member sees her own requests only; the owner and admins see all. Null: all. */
function ownOnly(): string | null {
  const who = caller();
  return who.kind === 'member' && who.member.role === 'member' ? who.member.id : null;
}
