import { useEffect, useRef } from 'react';
import { formatDuration } from '../../../../daemon/api/durations';
import { databaseKey } from '../../../../daemon/api/databases';
import type { AccessRequest } from '../../../../daemon/api/requests';
import { Button } from '../../components/common';
import { formatCountdown, formatDateTime, formatRelative } from '../../lib/format';

/** `alice` of `alice (device sha256:…)`, `owner` as it is. */
export function actorName(actor: string | null): string {
  return (actor ?? 'someone').replace(/ \(device .*\)$/, '');
}

/** What a request asks for, as chips: its keys, and `PG_PROD_URL` with its database role. */
function WhatCell({ r }: { r: AccessRequest }) {
  return (
    <td>
      <span className="mono block where">
        {r.project}/{r.environment}
      </span>
      <ul className="request-keys" aria-label={`Keys of ${r.id}`}>
        {r.scope.map((k) => (
          <li key={k} className="chip mono">
            {k}
          </li>
        ))}
        {r.db && (
          <li className="chip mono db" title={`A login role of its own in ${r.db.split(':')[0]} (role ${r.db})`}>
            {databaseKey(r.db.split(':')[0]!)} · {r.db}
          </li>
        )}
      </ul>
    </td>
  );
}

/** Scrolls the row a notification opened into view once. */
function useOpened(opened: boolean) {
  const ref = useRef<HTMLTableRowElement>(null);
  useEffect(() => {
    if (opened) ref.current?.scrollIntoView({ block: 'center' });
  }, [opened]);
  return ref;
}

/** A request waiting for an answer: who, what, for how long, why, until when; Approve and Deny. */
export function PendingRow({
  r,
  now,
  opened,
  busy,
  onApprove,
  onDeny,
}: {
  r: AccessRequest;
  now: number;
  opened: boolean;
  busy: boolean;
  onApprove: () => void;
  onDeny: () => void;
}) {
  const ref = useOpened(opened);
  const left = Date.parse(r.windowEndsAt) - now;
  return (
    <tr ref={ref} data-request={r.id} className={opened ? 'opened' : undefined} aria-current={opened || undefined}>
      <td>
        <strong className="block mono">{r.requester}</strong>
        <span className="muted small nowrap">asked {formatRelative(r.createdAt, now)}</span>
      </td>
      <WhatCell r={r} />
      <td className="nowrap">{r.ttlSeconds ? formatDuration(r.ttlSeconds) : 'policy'}</td>
      <td className="request-reason">{r.reason}</td>
      <td className="small nowrap" title={formatDateTime(r.windowEndsAt)}>
        {left > 0 ? `${formatCountdown(left)} left` : 'expiring'}
      </td>
      <td className="row-actions">
        <Button
          className="button small primary"
          icon="check"
          label="Approve"
          disabled={busy}
          onClick={onApprove}
          aria-label={`Approve ${r.requester}'s request ${r.id}`}
        />
        <Button
          className="button small danger-outline"
          icon="ban"
          label="Deny"
          disabled={busy}
          onClick={onDeny}
          aria-label={`Deny ${r.requester}'s request ${r.id}`}
        />
      </td>
    </tr>
  );
}

/** The outcome's badge: approved, denied, expired, or break-glass (reviewed or not). */
function Outcome({ r }: { r: AccessRequest }) {
  if (r.breakGlass) return <span className="badge bad">Break-glass</span>;
  if (r.status === 'approved') return <span className="badge good">Approved</span>;
  if (r.status === 'denied') return <span className="badge warn">Denied</span>;
  return <span className="badge muted">Expired</span>;
}

/** Who decided and why (or that nobody answered), and a break-glass grant's review. */
function Decision({ r }: { r: AccessRequest }) {
  if (r.status === 'expired') return <span className="muted small">Nobody answered within its window</span>;
  const by = r.breakGlass ? `${r.requester}, without approval` : actorName(r.decidedBy);
  return (
    <>
      <span className="block small">
        by <strong>{by}</strong>
        {r.decision && r.decision !== 'break-glass' ? `: ${r.decision}` : ''}
      </span>
      {r.breakGlass && (
        <span className="muted small block">
          {r.reviewedAt ? `reviewed by ${actorName(r.reviewedBy)}` : 'waits for your review'}
        </span>
      )}
    </>
  );
}

/** A decided (or expired) request; a break-glass grant not reviewed yet has Review. */
export function HistoryRow({
  r,
  now,
  opened,
  busy,
  onReview,
}: {
  r: AccessRequest;
  now: number;
  opened: boolean;
  busy: boolean;
  onReview: () => void;
}) {
  const ref = useOpened(opened);
  const when = r.decidedAt ?? r.windowEndsAt;
  return (
    <tr ref={ref} data-request={r.id} className={opened ? 'opened' : undefined} aria-current={opened || undefined}>
      <td>
        <strong className="block mono">{r.requester}</strong>
        <span className="muted small request-reason">{r.reason}</span>
      </td>
      <WhatCell r={r} />
      <td>
        <Outcome r={r} />
      </td>
      <td>
        <Decision r={r} />
      </td>
      <td className="small nowrap" title={formatDateTime(when)}>
        {formatRelative(when, now)}
      </td>
      <td className="row-actions">
        {r.breakGlass && !r.reviewedAt && (
          <Button
            className="button small"
            icon="eye"
            label="Review"
            disabled={busy}
            onClick={onReview}
            aria-label={`Review ${r.requester}'s break-glass ${r.id}`}
          />
        )}
      </td>
    </tr>
  );
}
