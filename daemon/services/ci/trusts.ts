import { acting } from '../team/caller';
import { BellaError, formatDuration, type CiTrust, type OperationArgs, type OperationOutput } from '../../api';
import { iso } from '../../base/common/time';
import { unmatchedEntries } from '../../base/common/scope';
import type { StoredCiTrust } from '../../store';
import { resolveDbRef } from '../databases/logins';
import { leaseTtl } from '../lease-rules';
import { findEnvironment } from '../lookup';
import type { ServiceContext } from '../service-context';

/** A CI lease's ttl when the trust names none: the 15 minutes of one job. */
export const DEFAULT_CI_TTL_SECONDS = 15 * 60;

/** The trust as listed: whether a CA is pinned, never the PEM itself. */
export function toCiTrust(t: StoredCiTrust): CiTrust {
  return {
    name: t.name,
    project: t.project,
    environment: t.environment,
    scope: t.scope,
    ttlSeconds: t.ttlSeconds,
    issuer: t.issuer,
    audience: t.audience,
    claims: t.claims,
    ...(t.db ? { db: t.db } : {}),
    issuerCa: t.issuerCaPem !== undefined,
    createdAt: iso(t.createdAt),
  };
}

/** CI trusts as their owner manages them (admin plane); kept in the settings, by name order. */
export class CiTrustsService {
  constructor(private readonly ctx: ServiceContext) {}

  list(): OperationOutput<'listCiTrusts'> {
    return { trusts: (this.ctx.store.state.settings.ciTrusts ?? []).map(toCiTrust) };
  }

  /** Adds a trust; adding sends nothing anywhere (the issuer is first contacted at a login). */
  async add(args: OperationArgs<'addCiTrust'> & { audience: string }): Promise<OperationOutput<'addCiTrust'>> {
    return this.ctx.store.transact((state, touched) => {
      const env = findEnvironment(state, args.project, args.environment);
      const trusts = state.settings.ciTrusts ?? [];
      if (trusts.some((t) => t.name === args.name))
        throw new BellaError(
          'conflict',
          `a CI trust named ${args.name} exists: remove it first (bella ci trust remove ${args.name})`,
        );
      // `--db`: checked now (database of this environment, role known), its login made at each login.
      if (args.db) resolveDbRef(state, args.db, args.project, args.environment);
      const keys = Object.keys(env.secrets).sort();
      const unmatched = unmatchedEntries(args.scope, keys);
      if (unmatched.length)
        throw new BellaError(
          'invalid_argument',
          `--scope ${unmatched.join(', ')} matches no key in ${args.project}/${args.environment}${keys.length ? `; its keys: ${keys.join(', ')}` : ''}`,
          { unmatched, keys },
        );
      // The environment's policy caps the ttl here too, so the list shows what a job really gets.
      const { ttl, capped } = leaseTtl(args.ttlSeconds ?? DEFAULT_CI_TTL_SECONDS, env.policy, DEFAULT_CI_TTL_SECONDS);
      const trust: StoredCiTrust = {
        name: args.name,
        project: args.project,
        environment: args.environment,
        scope: [...new Set(args.scope)],
        ttlSeconds: ttl,
        issuer: args.issuer,
        audience: args.audience,
        claims: args.claims,
        ...(args.issuerCaPem ? { issuerCaPem: args.issuerCaPem } : {}),
        ...(args.db ? { db: args.db } : {}),
        createdAt: this.ctx.clock(),
      };
      state.settings.ciTrusts = [...trusts, trust].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      touched.setting();
      return {
        result: { trust: toCiTrust(trust), capped },
        audit: [
          {
            event: 'CiTrustAdded',
            outcome: 'Success',
            actor: acting(),
            project: args.project,
            environment: args.environment,
            keys: trust.scope,
            message: `trust ${trust.name}: issuer ${trust.issuer}, audience ${trust.audience}, ${trust.claims.map((c) => `${c.claim}=${c.pattern}`).join(' ')}, ttl ${formatDuration(ttl)}`,
          },
        ],
      };
    });
  }

  /** Removes a trust: its JWTs buy nothing from now on (leases already issued run their ttl). */
  async remove(args: OperationArgs<'removeCiTrust'>): Promise<OperationOutput<'removeCiTrust'>> {
    return this.ctx.store.transact((state, touched) => {
      const trusts = state.settings.ciTrusts ?? [];
      const trust = trusts.find((t) => t.name === args.name);
      if (!trust) {
        const names = trusts.map((t) => t.name);
        throw new BellaError(
          'not_found',
          `no CI trust ${args.name}; ${names.length ? `the trusts: ${names.join(', ')}` : 'there are none (bella ci trust add)'}`,
        );
      }
      state.settings.ciTrusts = trusts.filter((t) => t !== trust);
      touched.setting();
      return {
        result: { removed: trust.name },
        audit: [
          {
            event: 'CiTrustRemoved',
            outcome: 'Success',
            actor: acting(),
            project: trust.project,
            environment: trust.environment,
            message: `trust ${trust.name} (${trust.issuer})`,
          },
        ],
      };
    }, 'release');
  }
}
