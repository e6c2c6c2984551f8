import type { Lease } from '../../../../daemon/api/types';
import { effectiveStatus } from '../../../../daemon/base/common/lease-status';
import { plural } from '../../../../daemon/base/common/plural';
import { Button } from '../../components/common';
import { formatDateTime, formatRelative } from '../../lib/format';
import { Countdown, ScopeChips, StatusBadge } from './parts';

/** One lease in the leases table: reason and use, scope, age, countdown, status, and Renew and Revoke while active. */
export function LeaseRow({
  lease: l,
  now,
  warnBeforeSeconds,
  renewing,
  onRenew,
  onRevoke,
}: {
  lease: Lease;
  now: number;
  warnBeforeSeconds: number | undefined;
  renewing: boolean;
  onRenew: () => void;
  onRevoke: () => void;
}) {
  const status = effectiveStatus(l, now);
  return (
    <tr data-lease={l.id}>
      <td className="reason-cell">
        <span className="reason">{l.reason}</span>
        <span className="sub mono">
          {l.id}
          {l.renewals > 0 ? ` · renewed ${plural(l.renewals, 'time')}` : ''}
          {l.lastUsedAt ? ` · last used ${formatRelative(l.lastUsedAt, now)}` : ' · not used yet'}
        </span>
      </td>
      <td className="scope-cell">
        <ScopeChips scope={l.scope} />
      </td>
      <td className="nowrap muted">
        <time dateTime={l.issuedAt} title={formatDateTime(l.issuedAt)}>
          {formatRelative(l.issuedAt, now)}
        </time>
      </td>
      <td className="nowrap">
        <Countdown lease={l} now={now} warnBeforeSeconds={warnBeforeSeconds} />
      </td>
      <td>
        <StatusBadge status={status} />
      </td>
      <td className="row-actions">
        {status === 'active' && (
          <>
            <Button
              className="button small"
              icon="refresh"
              label="Renew"
              disabled={renewing}
              onClick={onRenew}
              aria-label={`Renew lease ${l.id}`}
            />
            <Button
              className="button small danger-outline"
              icon="ban"
              label="Revoke"
              onClick={onRevoke}
              aria-label={`Revoke lease ${l.id}`}
            />
          </>
        )}
      </td>
    </tr>
  );
}
