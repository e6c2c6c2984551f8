import { useState } from 'react';
import type { Environment, Lease } from '../../../../daemon/api/types';
import type { OperationOutput } from '../../../../daemon/api/routes';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Fact, Field } from '../../components/common';
import { bella } from '../../lib/bella';
import { EXPIRE_ALL_CHANGES, EXPIRE_ALL_UNCHANGED } from '../../../../daemon/base/common/expire-all';
import { plural } from '../../../../daemon/base/common/plural';
import { ScopeChips } from './parts';
import { TypeToConfirmDialog } from '../../components/TypeToConfirmDialog';

/** Confirms revoking one lease. */
export function RevokeDialog({
  lease,
  onClose,
  onRevoked,
}: {
  lease: Lease;
  onClose: () => void;
  onRevoked: () => void;
}) {
  const [reason, setReason] = useState('');
  return (
    <ConfirmDialog
      title="Revoke this lease?"
      description="Its token is refused from the next request on. This cannot be undone."
      confirmLabel="Revoke lease"
      onClose={onClose}
      action={async () => {
        await bella().revokeLease({ id: lease.id, ...(reason.trim() ? { reason: reason.trim() } : {}) });
        onRevoked();
      }}
    >
      <dl className="facts">
        <Fact term="Reason">{lease.reason}</Fact>
        <Fact term="Scope">
          <ScopeChips scope={lease.scope} />
        </Fact>
      </dl>
      <Field label="Why revoke? (optional)" htmlFor="revoke-reason" hint="Kept in the audit trail.">
        <input id="revoke-reason" autoFocus value={reason} onChange={(e) => setReason(e.target.value)} />
      </Field>
    </ConfirmDialog>
  );
}

/** Expire-all behind a confirmation where the person types the environment's slug. */
export function ExpireAllDialog({
  project,
  environment,
  active,
  onClose,
  onDone,
}: {
  project: string;
  environment: Environment;
  active: number;
  onClose: () => void;
  onDone: (r: OperationOutput<'expireAll'>) => void;
}) {
  return (
    <TypeToConfirmDialog
      title={`Expire all leases of ${environment.name}?`}
      word={environment.slug}
      confirmLabel="Expire all and rotate"
      onClose={onClose}
      action={async () => onDone(await bella().expireAll({ project, environment: environment.slug }))}
    >
      <ul className="consequences">
        <li>
          <strong>{plural(active, 'active lease')}</strong> {active === 1 ? 'is' : 'are'} revoked at once.
        </li>
        {[...EXPIRE_ALL_CHANGES, EXPIRE_ALL_UNCHANGED].map((line) => (
          <li key={line}>{line}.</li>
        ))}
      </ul>
    </TypeToConfirmDialog>
  );
}
