import { formatDuration } from '../api/durations';
import type { IssuedLease } from '../api/routes';
import type { CliSession, EnvironmentRef } from './session';

/** What an owner's per-run lease covers. */
export interface RunLeaseRequest {
  scope: string[];
  /** Seconds; undefined means the policy's ttl, or 1 hour without a policy. */
  ttlSeconds?: number;
  reason: string;
  /** `--db DB:ROLE`: a login role for this run only. */
  db?: string;
}

/** Reasons are kept in the audit trail; a long command line is cut to this. */
const MAX_REASON = 200;

/** `bella run: npm start`, cut to a reasonable length. */
export function runReason(verb: string, what: string): string {
  const text = `bella ${verb}: ${what}`.replace(/\s+/g, ' ').trim();
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;
}

/**
 * Issues a lease for one run by the owner (as `doppler run` does, but every run is a lease in
 * the audit trail): ttl from the request, else the environment's policy, else 1 hour.
 */
export async function issueRunLease(
  cli: CliSession,
  ref: EnvironmentRef,
  request: RunLeaseRequest,
): Promise<IssuedLease> {
  let ttlSeconds = request.ttlSeconds;
  if (ttlSeconds === undefined) {
    const { policy } = await cli.call('getLeasePolicy', { project: ref.project, environment: ref.environment });
    ttlSeconds = policy ? undefined : 3600;
  }
  return cli.call('issueLease', {
    project: ref.project,
    environment: ref.environment,
    scope: request.scope,
    ttlSeconds,
    reason: request.reason,
    db: request.db,
  });
}

/**
 * Ends a per-run lease; a failure is reported but never hides the command's own result. The
 * owner revokes it on the admin plane; `revoke` ends it otherwise (`run --ci`: the holder's own
 * revoke on the token plane).
 */
export async function endRunLease(
  cli: CliSession,
  issued: { lease: Pick<IssuedLease['lease'], 'id' | 'expiresAt'> },
  why: string,
  startedAt: number,
  revoke: (reason: string) => Promise<unknown> = (reason) => cli.call('revokeLease', { id: issued.lease.id, reason }),
): Promise<void> {
  const took = formatDuration(Math.max(1, Math.round((Date.now() - startedAt) / 1000)));
  try {
    await revoke(`${why} after ${took}`);
  } catch (err) {
    cli.note(
      `warning: could not revoke the per-run lease ${issued.lease.id} (${(err as Error).message}); it ends by itself at ${issued.lease.expiresAt}`,
    );
  }
}
