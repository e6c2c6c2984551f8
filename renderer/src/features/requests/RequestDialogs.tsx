import { useState } from 'react';
import { formatDuration, parseDuration } from '../../../../daemon/api/durations';
import type { AccessRequest } from '../../../../daemon/api/requests';
import type { Lease } from '../../../../daemon/api/types';
import { Dialog, DialogActions } from '../../components/Dialog';
import { ErrorNote, Field } from '../../components/common';
import { useAction } from '../../lib/action';
import { bella } from '../../lib/bella';
import { DurationField } from '../policy/DurationField';

/** One line of what is asked: `alice asks for my-api/production: DATABASE_URL, PG_PROD_URL (pg-prod:readonly)`. */
function asked(r: AccessRequest): string {
  const what = [...r.scope, ...(r.db ? [`a database login (${r.db})`] : [])].join(', ');
  return `${r.requester} asks for ${r.project}/${r.environment}: ${what}${r.ttlSeconds ? ` for ${formatDuration(r.ttlSeconds)}` : ''}. “${r.reason}”`;
}

/** Approves a request: its lease starts now; a shorter ttl than asked and a reason are optional. */
export function ApproveDialog({
  request: r,
  onClose,
  onApproved,
}: {
  request: AccessRequest;
  onClose: () => void;
  onApproved: (r: AccessRequest, lease: Lease) => void;
}) {
  const [ttl, setTtl] = useState('');
  const [reason, setReason] = useState('');
  const action = useAction();
  const seconds = ttl.trim() ? parseDuration(ttl) : undefined;
  const ttlError =
    ttl.trim() && seconds === undefined
      ? 'A duration such as 15m or 1h.'
      : seconds !== undefined && r.ttlSeconds !== null && seconds > r.ttlSeconds
        ? `Only shorter than asked (${formatDuration(r.ttlSeconds)}).`
        : null;
  const presets = ['15m', '30m', '1h'].filter((p) => r.ttlSeconds === null || parseDuration(p)! < r.ttlSeconds);
  return (
    <Dialog
      title={`Approve ${r.requester}'s request?`}
      description={asked(r)}
      onClose={onClose}
      onSubmit={() =>
        void (
          !ttlError &&
          action.run('approve', async () => {
            const res = await bella().approveAccessRequest({
              id: r.id,
              ...(seconds ? { ttlSeconds: seconds } : {}),
              ...(reason.trim() ? { reason: reason.trim() } : {}),
            });
            onApproved(res.request, res.lease);
          })
        )
      }
      footer={<DialogActions onCancel={onClose} label="Approve" disabled={!!ttlError || action.busy !== null} />}
    >
      <DurationField
        id="approve-ttl"
        label="Shorter lifetime (optional)"
        hint={
          seconds
            ? `Her lease lasts ${formatDuration(seconds)} from now.`
            : `Empty: ${r.ttlSeconds ? formatDuration(r.ttlSeconds) : 'the policy’s ttl'}, from now.`
        }
        presetsLabel="Shorter lifetimes"
        presets={presets}
        value={ttl}
        error={ttlError}
        onChange={setTtl}
      />
      <Field label="Note (optional)" htmlFor="approve-reason" hint="Kept in the audit trail with your approval.">
        <input id="approve-reason" value={reason} maxLength={1000} onChange={(e) => setReason(e.target.value)} />
      </Field>
      <ErrorNote error={action.error} />
    </Dialog>
  );
}

/** Denies a request; the reason is required: the requester sees it. */
export function DenyDialog({
  request: r,
  onClose,
  onDenied,
}: {
  request: AccessRequest;
  onClose: () => void;
  onDenied: (r: AccessRequest) => void;
}) {
  const [reason, setReason] = useState('');
  const [tried, setTried] = useState(false);
  const action = useAction();
  const error = tried && !reason.trim() ? 'Say why: she sees the reason.' : null;
  return (
    <Dialog
      tone="danger"
      title={`Deny ${r.requester}'s request?`}
      description={asked(r)}
      onClose={onClose}
      onSubmit={() => {
        setTried(true);
        if (!reason.trim()) return;
        void action.run('deny', async () =>
          onDenied((await bella().denyAccessRequest({ id: r.id, reason: reason.trim() })).request),
        );
      }}
      footer={<DialogActions onCancel={onClose} label="Deny" tone="danger" disabled={action.busy !== null} />}
    >
      <Field label="Reason" htmlFor="deny-reason" error={error} hint="Shown to her, and kept in the audit trail.">
        <input
          id="deny-reason"
          value={reason}
          maxLength={1000}
          aria-invalid={!!error}
          onChange={(e) => setReason(e.target.value)}
        />
      </Field>
      <ErrorNote error={action.error} />
    </Dialog>
  );
}
