import { formatPairs, formatWhen } from '../format';
import { requireToken, tokenPlane } from '../token-plane';
import type { Action } from '../session';
import { endedMessage } from './leases';

/** `bella token lookup`: the holder's own lease. */
export const lookup: Action = async (cli, { opts }) => {
  const token = await requireToken(cli, opts);
  const plane = await tokenPlane(cli, opts);
  const { lease } = await plane.call('lookupToken', {}, { token });
  cli.print({ lease }, () =>
    formatPairs([
      ['lease', lease.id],
      ['environment', `${lease.project}/${lease.environment}`],
      ['scope', lease.scope.join(', ')],
      ['status', lease.status],
      ['issued', formatWhen(lease.issuedAt)],
      ['expires', formatWhen(lease.expiresAt)],
      ['uses', String(lease.uses)],
      ['last used', lease.lastUsedAt ? formatWhen(lease.lastUsedAt) : 'never'],
    ]),
  );
};

/** `bella token revoke`: the holder ends its own lease. */
export const revoke: Action = async (cli, { opts }) => {
  const o = opts as { token?: string; reason?: string };
  const token = await requireToken(cli, opts);
  const plane = await tokenPlane(cli, opts);
  const res = await plane.call('revokeToken', { reason: o.reason }, { token });
  cli.print(res, () =>
    res.alreadyEnded
      ? endedMessage(res.lease)
      : `revoked lease ${res.lease.id} (${res.lease.project}/${res.lease.environment}): this token is refused from now on`,
  );
};
