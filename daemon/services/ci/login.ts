import { BellaError, type OperationArgs, type OperationOutput } from '../../api';
import { iso } from '../../base/common/time';
import type { DbLogins, LoginPlan } from '../databases/logins';
import type { LeaseLifecycle } from '../lease-lifecycle';
import { findEnvironment } from '../lookup';
import type { RefusalLog } from '../refusals';
import type { ServiceContext } from '../service-context';
import { TokenRefusal } from '../token-verifier';
import { ciReason } from './claims';
import { IssuerKeys, type IssuerKeysOptions } from './issuer-keys';
import { CiDenied, verifyJwt } from './verify-jwt';

/** Who sent a CI login: `socket`, or the peer's address on the TLS listener. */
export interface CiLoginRequest {
  source: string;
}

/**
 * The exchange (token plane): a CI job's OIDC JWT, verified against the trusts, buys one lease of
 * the matching trust's scope for at most its ttl. A JWT buys at most one lease: its replay key is
 * a record written in the lease's own commit, dropped by maintenance once the JWT could no longer
 * pass anyway. Every
 * refusal is audited once through the {@link RefusalLog} (aggregated under floods) and answered
 * 401, which the listener's failed-token limiter counts. The JWT is never stored nor logged.
 */
export class CiLoginService {
  private readonly keys: IssuerKeys;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly lifecycle: LeaseLifecycle,
    private readonly refusals: RefusalLog,
    private readonly dbLogins: DbLogins,
    options: IssuerKeysOptions = {},
  ) {
    this.keys = new IssuerKeys({ now: ctx.clock, ...options });
  }

  async login(req: CiLoginRequest, args: OperationArgs<'ciLogin'>): Promise<OperationOutput<'ciLogin'>> {
    try {
      const all = this.ctx.store.state.settings.ciTrusts ?? [];
      const trusts = args.trust ? all.filter((t) => t.name === args.trust) : all;
      const verified = await verifyJwt(args.idToken, trusts, this.keys, this.ctx.clock());
      const reason = ciReason(verified.claims);
      const out = await this.lifecycle.transact((state, changes, touched) => {
        // The trust is read again inside the commit: one removed meanwhile buys nothing.
        const trust = (state.settings.ciTrusts ?? []).find((t) => t.name === verified.trust.name);
        if (!trust) throw new CiDenied('no CI trust names this issuer', `trust ${verified.trust.name} was removed`);
        // Defends against replay: a JWT seen once (even before a restart: this is durable) buys nothing more.
        const seen = state.ciReplays.get(verified.replayKey);
        if (seen && seen.until > changes.now) throw new CiDenied('this token was already used', 'replayed JWT', trust);
        const env = findEnvironment(state, trust.project, trust.environment);
        state.ciReplays.set(verified.replayKey, { id: verified.replayKey, until: verified.rememberUntil });
        touched.record('ciReplay', verified.replayKey);
        const plan = trust.db ? this.dbLogins.plan(state, trust.db, trust.project, trust.environment) : undefined;
        const issued = changes.issue(env, {
          project: trust.project,
          environment: trust.environment,
          scope: plan ? [...trust.scope, plan.key] : trust.scope,
          ttlSeconds: trust.ttlSeconds,
          reason,
          actor: `ci:${trust.name}`,
        });
        // Durable first, as for any lease with --db: the lease and its drop job in this commit.
        const login: LoginPlan | undefined = plan && this.dbLogins.attach(state, touched, issued.lease, env, plan);
        return { result: { lease: issued.lease, token: issued.token, trust: trust.name, login } };
      });
      if (out.login) await this.dbLogins.create(out.lease, out.login);
      return {
        token: out.token,
        leaseId: out.lease.id,
        project: out.lease.project,
        environment: out.lease.environment,
        scope: out.lease.scope,
        expiresAt: iso(out.lease.expiresAt),
        trust: out.trust,
      };
    } catch (err) {
      if (!(err instanceof CiDenied)) throw err;
      const error = new BellaError(
        err.unavailable ? 'unavailable' : 'unauthenticated',
        `CI login refused: ${err.client}; the owner finds why with bella audit list --event CiLoginDenied`,
      );
      const where = err.trust ? { project: err.trust.project, environment: err.trust.environment } : {};
      return this.refusals.refuse(req.source, new TokenRefusal(error, null, `ci login: ${err.audit}`), {
        event: 'CiLoginDenied',
        ...where,
      });
    }
  }
}
