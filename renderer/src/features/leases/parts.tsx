import type { Lease, LeaseStatus } from '../../../../daemon/api/types';
import { effectiveStatus } from '../../../../daemon/base/common/lease-status';
import { formatCountdown, formatDateTime } from '../../lib/format';

/** A coloured status label. */
export function StatusBadge({ status }: { status: LeaseStatus }) {
  const label = { active: 'Active', expired: 'Expired', revoked: 'Revoked' }[status];
  return <span className={`badge status-${status}`}>{label}</span>;
}

/** A live countdown to a lease's expiry, or when it ended. */
export function Countdown({
  lease,
  now,
  warnBeforeSeconds,
}: {
  lease: Lease;
  now: number;
  warnBeforeSeconds?: number;
}) {
  const status = effectiveStatus(lease, now);
  if (status !== 'active') {
    const ended = lease.endedAt ?? lease.expiresAt;
    return (
      <time className="muted" dateTime={ended} title={formatDateTime(ended)}>
        {status === 'revoked' ? 'revoked' : 'expired'}
      </time>
    );
  }
  const left = Date.parse(lease.expiresAt) - now;
  const soon = left <= (warnBeforeSeconds ?? 300) * 1000;
  return (
    <time
      className={`countdown${soon ? ' soon' : ''}`}
      dateTime={lease.expiresAt}
      title={`Expires ${formatDateTime(lease.expiresAt)}`}
    >
      {formatCountdown(left)}
    </time>
  );
}

/** The scope of a lease as chips. */
export function ScopeChips({ scope }: { scope: string[] }) {
  return (
    <ul className="chips" aria-label="Scope">
      {scope.map((s) => (
        <li key={s} className={`chip mono${s.includes('*') ? ' glob' : ''}`}>
          {s}
        </li>
      ))}
    </ul>
  );
}
