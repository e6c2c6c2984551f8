import { useState } from 'react';
import { formatGrant, type TeamMember } from '../../../../daemon/api/team';
import type { OperationOutput } from '../../../../daemon/api/routes';
import { plural } from '../../../../daemon/base/common/plural';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Dialog, DialogActions } from '../../components/Dialog';
import { ErrorNote } from '../../components/common';
import { useAction } from '../../lib/action';
import { bella } from '../../lib/bella';
import { draftGrant, GrantFields, useGrantDraft } from './GrantFields';

/** Grants a person issue or request access to one environment (replacing what she had there). */
export function GrantDialog({
  member,
  onClose,
  onGranted,
}: {
  member: TeamMember;
  onClose: () => void;
  onGranted: (m: TeamMember) => void;
}) {
  const [draft, setDraft] = useGrantDraft(member.grants);
  const action = useAction();
  const grant = draftGrant(draft);
  const had = grant && member.grants.find((g) => g.project === grant.project && g.environment === grant.environment);
  return (
    <Dialog
      title={`Grant ${member.name} access`}
      description="To one environment. She never reads values through the grant itself: she issues or asks for leases."
      onClose={onClose}
      onSubmit={() =>
        void (
          grant &&
          action.run('grant', async () =>
            onGranted((await bella().grantTeamMember({ name: member.name, ...grant })).member),
          )
        )
      }
      footer={<DialogActions onCancel={onClose} label="Grant" disabled={!grant || action.busy !== null} />}
    >
      <GrantFields idPrefix="grant" value={draft} onChange={setDraft} />
      {had && had.access !== grant.access && <p className="muted small">Replaces her {formatGrant(had)} grant.</p>}
      <ErrorNote error={action.error} />
    </Dialog>
  );
}

/** Asks before removing a person; offers to revoke her active leases too. */
export function RemoveMemberDialog({
  member,
  onClose,
  onRemoved,
}: {
  member: TeamMember;
  onClose: () => void;
  onRemoved: (r: OperationOutput<'removeTeamMember'>, revoked: boolean) => void;
}) {
  const [revoke, setRevoke] = useState(true);
  return (
    <ConfirmDialog
      title={`Remove ${member.name} from the team?`}
      description={`${member.devices.length === 1 ? 'Her device is' : `Her ${plural(member.devices.length, 'device')} are`} refused at its next request. To bring her back, invite her again.`}
      confirmLabel="Remove"
      onClose={onClose}
      focusCancel
      action={async () =>
        onRemoved(await bella().removeTeamMember({ name: member.name, revokeLeases: revoke }), revoke)
      }
    >
      <label className="check-item">
        <input type="checkbox" checked={revoke} onChange={(e) => setRevoke(e.target.checked)} />
        <span>Also revoke her leases</span>
      </label>
      <p className="muted small">
        {revoke
          ? 'Every token she issued stops working at once.'
          : 'Tokens she already issued keep working until they expire.'}
      </p>
    </ConfirmDialog>
  );
}
