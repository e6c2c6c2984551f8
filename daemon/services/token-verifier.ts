import { createSecretKey, type KeyObject } from 'node:crypto';
import { BellaError } from '../api';
import { hashesEqual, hashToken, own, type State, type StoredEnvironment, type StoredLease } from '../store';
import { iso } from '../base/common/time';
import { TOKEN_PATTERN } from '../base/common/token-format';

/** A token that passed every check: its lease and the environment it reads. */
export interface Authenticated {
  lease: StoredLease;
  env: StoredEnvironment;
}

/** A refused token: the error the caller gets, and what the audit entry may say about it. */
export class TokenRefusal extends Error {
  constructor(
    readonly error: BellaError,
    /** Set only once the token's secret matched: a refusal never names a lease it cannot prove. */
    readonly lease: StoredLease | null,
    readonly auditMessage: string,
  ) {
    super(error.message);
  }
}

/**
 * Checks `bax-` tokens (openbao's token store): format, lease lookup by id, a constant-time
 * compare of the keyed hash, then the lease's state. `usable: false` accepts a lease that ended
 * (lookup and self-revoke of one's own ended lease); reads demand an active, unexpired lease.
 */
export class TokenVerifier {
  private readonly tokenKey: KeyObject;

  constructor(tokenKey: Buffer) {
    this.tokenKey = createSecretKey(tokenKey);
  }

  check(state: State, token: string | undefined, now: number, usable: boolean): Authenticated {
    if (!token) {
      throw new TokenRefusal(
        new BellaError(
          'unauthenticated',
          'no token: send Authorization: Bearer bax-… (bella run --token, or BELLA_TOKEN)',
        ),
        null,
        'no token',
      );
    }
    const match = TOKEN_PATTERN.exec(token);
    if (!match) {
      throw new TokenRefusal(
        new BellaError(
          'unauthenticated',
          'malformed token: a bella token looks like bax-<lease id>-<secret>; copy it whole',
        ),
        null,
        'malformed token',
      );
    }
    const [, leaseId, secret] = match as unknown as [string, string, string];
    const lease = state.leases.get(leaseId);
    // The keyed hash is computed even for an unknown lease id, so both refusals take alike long.
    const presented = hashToken(this.tokenKey, leaseId, secret);
    // Unknown lease and wrong secret answer alike, so a caller learns nothing about other leases.
    if (!lease || !hashesEqual(lease.tokenHash, presented)) {
      throw new TokenRefusal(
        new BellaError(
          'unauthenticated',
          'token not recognised: check that it was copied whole, or ask for a new lease',
        ),
        null,
        lease ? 'token secret does not match its lease' : 'no such lease',
      );
    }
    const project = own(state.projects, lease.project);
    const env = project && own(project.environments, lease.environment);
    if (!env) {
      throw new TokenRefusal(
        new BellaError(
          'token_revoked',
          `${lease.project}/${lease.environment} was deleted; this token no longer works`,
        ),
        lease,
        'environment deleted',
      );
    }
    if (!usable) return { lease, env };
    if (lease.status === 'revoked' || env.tokenEpoch !== lease.epoch) {
      const rotated = lease.endReason?.startsWith('expire-all') || env.tokenEpoch !== lease.epoch;
      const why = rotated
        ? `the credentials of ${lease.project}/${lease.environment} were rotated (expire-all) at ${iso(env.rotatedAt ?? lease.endedAt ?? now)}`
        : `lease ${leaseId} was revoked at ${iso(lease.endedAt ?? now)}`;
      throw new TokenRefusal(
        new BellaError('token_revoked', `${why}; this token no longer works: ask for a new lease`),
        lease,
        rotated ? 'credentials rotated' : 'lease revoked',
      );
    }
    // Expiry is final: a lease recorded expired stays refused whatever the clock says now.
    if (lease.status === 'expired' || now >= lease.expiresAt) {
      throw new TokenRefusal(
        new BellaError(
          'token_expired',
          `lease ${leaseId} expired at ${iso(lease.expiresAt)}; this token no longer works: ask for a new lease`,
        ),
        lease,
        'lease expired',
      );
    }
    return { lease, env };
  }
}
