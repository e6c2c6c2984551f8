import { useEffect, useState } from 'react';
import { formatDuration, parseDuration } from '../../../../daemon/api/durations';
import {
  formatGrant,
  TEAM_ROLES,
  type Grant,
  type TeamInviteCreated,
  type TeamRole,
} from '../../../../daemon/api/team';
import { Dialog, DialogActions } from '../../components/Dialog';
import { CopyButton, ErrorNote, Field, Segmented } from '../../components/common';
import { Icon } from '../../components/Icon';
import { ShownOnceDialog } from '../../components/ShownOnce';
import { useAction } from '../../lib/action';
import { bella, errorCode } from '../../lib/bella';
import { formatDateTime } from '../../lib/format';
import { DurationField } from '../policy/DurationField';
import { draftGrant, GrantFields, useGrantDraft } from './GrantFields';
import { ListenerOffNote } from './ListenerOffNote';

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const MAX_INVITE_SECONDS = 7 * 86_400;
export const ROLE_HINT: Record<TeamRole, string> = {
  admin: 'Everything remotely but the team and the listener settings.',
  member: 'Only the environments granted to her: issue or request leases there, and manage her own.',
};

/** Invites a person: her name, role, grants and how long the code works; then shows the code once. */
export function InviteDialog({
  onClose,
  onInvited,
  onListenerOff,
}: {
  onClose: () => void;
  onInvited: () => void;
  /** The daemon refused: its listener is not serving (it stopped after the screen read it). */
  onListenerOff: () => void;
}) {
  const [created, setCreated] = useState<TeamInviteCreated | null>(null);
  const [copied, setCopied] = useState(false);
  if (created) {
    const line = `bella team join ${created.code}`;
    return (
      <ShownOnceDialog
        title={`Invite for ${created.invite.name}`}
        description={`Works once, until ${formatDateTime(created.invite.expiresAt)}. Send it to her over a channel you trust.`}
        savedLabel="I have sent the code"
        copied={copied}
        onClose={onClose}
        shown={{
          what: 'invite code',
          value: created.code,
          testId: 'invite-code',
          copyLabel: 'Copy code',
          explanation:
            'bella keeps only a hash of it. If it is lost, invite her again: the new code replaces this one.',
          onCopy: () => setCopied(true),
        }}
      >
        <div className="join-line">
          <p className="join-label" id="join-line-label">
            On her machine she runs
          </p>
          <div className="copy-list">
            <code className="mono" data-testid="join-line" aria-labelledby="join-line-label">
              {line}
            </code>
            <span onClickCapture={() => setCopied(true)}>
              <CopyButton text={line} label="Copy command" className="button small" />
            </span>
          </div>
          <p className="muted small">
            Her machine needs no daemon: the code carries this listener’s address and certificate fingerprint, and her
            device makes its own key.
          </p>
        </div>
      </ShownOnceDialog>
    );
  }
  return (
    <InviteForm
      onClose={onClose}
      onListenerOff={onListenerOff}
      onCreated={(r) => {
        setCreated(r);
        onInvited();
      }}
    />
  );
}

function InviteForm({
  onClose,
  onCreated,
  onListenerOff,
}: {
  onClose: () => void;
  onCreated: (r: TeamInviteCreated) => void;
  onListenerOff: () => void;
}) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<TeamRole>('member');
  const [grants, setGrants] = useState<Grant[]>([]);
  const [draft, setDraft] = useGrantDraft();
  const [expires, setExpires] = useState('24h');
  const [tried, setTried] = useState(false);
  const action = useAction();

  const nameError = tried && !NAME.test(name) ? 'Lowercase letters, digits, dots, dashes or underscores.' : null;
  const seconds = parseDuration(expires);
  const expiresError =
    tried && (seconds === undefined || seconds <= 0 || seconds > MAX_INVITE_SECONDS)
      ? 'A duration such as 2h or 24h, at most 7d.'
      : null;
  const pending = draftGrant(draft);
  // The daemon's refusal when the listener stopped meanwhile.
  const listenerOff =
    errorCode(action.error) === 'conflict' && action.error instanceof Error && /listener/.test(action.error.message);
  useEffect(() => {
    if (listenerOff) onListenerOff();
  }, [listenerOff]);

  function addGrant() {
    if (!pending) return;
    const same = (g: Grant) => g.project === pending.project && g.environment === pending.environment;
    setGrants([...grants.filter((g) => !same(g)), pending]);
  }

  async function submit() {
    setTried(true);
    if (!NAME.test(name) || seconds === undefined || seconds <= 0 || seconds > MAX_INVITE_SECONDS) return;
    await action.run('invite', async () =>
      onCreated(await bella().inviteTeamMember({ name, role, grants, expiresSeconds: seconds })),
    );
  }

  return (
    <Dialog
      wide
      title="Invite a teammate"
      description="She gets a one-time code and joins from her machine with her own device key."
      onClose={onClose}
      onSubmit={() => void submit()}
      footer={<DialogActions onCancel={onClose} label="Create invite" disabled={action.busy !== null} />}
    >
      <Field label="Name" htmlFor="invite-name" error={nameError} hint="How the team and the audit trail name her.">
        <input
          id="invite-name"
          className="mono"
          autoComplete="off"
          spellCheck={false}
          placeholder="alice"
          value={name}
          aria-invalid={!!nameError}
          onChange={(e) => setName(e.target.value.toLowerCase())}
        />
      </Field>
      <div className="policy-grid">
        <fieldset className="field invite-role">
          <legend>Role</legend>
          <Segmented<TeamRole>
            label="Role"
            value={role}
            onChange={setRole}
            options={TEAM_ROLES.map((r) => ({ value: r, label: r === 'admin' ? 'Admin' : 'Member' }))}
          />
          <p className="field-hint">{ROLE_HINT[role]}</p>
        </fieldset>
        <DurationField
          id="invite-expires"
          label="Code expires after"
          hint={seconds ? `Unused, the code stops working after ${formatDuration(seconds)}.` : 'At most 7d.'}
          presetsLabel="Usual expiries"
          presets={['1h', '24h', '7d']}
          value={expires}
          error={expiresError}
          onChange={setExpires}
        />
      </div>
      {role === 'member' && (
        <fieldset className="field grants-field">
          <legend>Grants</legend>
          {grants.length > 0 ? (
            <ul className="grant-chips" aria-label="Grants of the invite">
              {grants.map((g) => (
                <li key={formatGrant(g)} className="chip mono">
                  <span>{formatGrant(g)}</span>
                  <button
                    type="button"
                    className="icon-button small"
                    aria-label={`Drop ${formatGrant(g)}`}
                    onClick={() => setGrants(grants.filter((x) => x !== g))}
                  >
                    <Icon name="x" size={12} />
                  </button>
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted small">No grants yet: without one she sees nothing.</p>
          )}
          <GrantFields idPrefix="invite-grant" value={draft} onChange={setDraft} />
          <button type="button" className="button small" disabled={!pending} onClick={addGrant}>
            <Icon name="plus" size={14} />
            <span>Add grant</span>
          </button>
        </fieldset>
      )}
      {listenerOff ? <ListenerOffNote /> : <ErrorNote error={action.error} />}
    </Dialog>
  );
}
