import { formatGrant, type Grant, type TeamMember } from '../../../../daemon/api/team';
import { Button, CopyButton } from '../../components/common';
import { Icon } from '../../components/Icon';
import { formatDate, formatRelative } from '../../lib/format';

/** `sha256:3f2a…9c1b`: enough to recognise a device; the full fingerprint is its title and copy. */
export function shortFingerprint(fp: string): string {
  const hex = fp.replace(/^sha256:/, '');
  return hex.length > 12 ? `sha256:${hex.slice(0, 8)}…${hex.slice(-4)}` : fp;
}

/** One person of the team: name, role, grants (each one can be taken back), devices, buttons. */
export function MemberRow({
  member: m,
  now,
  busy,
  onGrant,
  onUngrant,
  onRemove,
}: {
  member: TeamMember;
  now: number;
  /** An action is under way: the buttons wait. */
  busy: boolean;
  onGrant: () => void;
  onUngrant: (g: Grant) => void;
  onRemove: () => void;
}) {
  return (
    <tr data-member={m.name}>
      <td>
        <strong className="block mono">{m.name}</strong>
        <span className="muted small nowrap">joined {formatDate(m.createdAt)}</span>
      </td>
      <td>
        <span className={`badge ${m.role === 'admin' ? 'good' : 'muted'}`}>
          {m.role === 'admin' ? 'Admin' : 'Member'}
        </span>
      </td>
      <td className="grants-cell">
        {m.role === 'admin' && <span className="small block">Every environment</span>}
        {m.grants.length > 0 ? (
          <ul className="grant-chips" aria-label={`Grants of ${m.name}`}>
            {m.grants.map((g) => (
              <li key={formatGrant(g)} className={`chip mono grant-${g.access}`}>
                <span>{formatGrant(g)}</span>
                <button
                  type="button"
                  className="icon-button small"
                  title="Take back"
                  aria-label={`Take back ${m.name}'s ${formatGrant(g)}`}
                  disabled={busy}
                  onClick={() => onUngrant(g)}
                >
                  <Icon name="x" size={12} />
                </button>
              </li>
            ))}
          </ul>
        ) : (
          m.role === 'member' && <span className="muted small">No grants: she sees nothing</span>
        )}
      </td>
      <td className="devices-cell">
        {m.devices.length === 0 && <span className="muted small">No device</span>}
        {m.devices.map((d) => (
          <div key={d.fingerprint} className="device" data-testid="device">
            <div className="copy-list">
              <code className="fingerprint" title={d.fingerprint}>
                {shortFingerprint(d.fingerprint)}
              </code>
              <CopyButton
                text={d.fingerprint}
                label={`Copy the device fingerprint of ${m.name}`}
                className="icon-button small"
              />
            </div>
            <span className="muted small block">
              {d.lastSeenAt ? `last seen ${formatRelative(d.lastSeenAt, now)}` : 'never seen'}
            </span>
          </div>
        ))}
      </td>
      <td className="row-actions">
        <Button
          className="button small"
          icon="plus"
          label="Grant"
          disabled={busy}
          onClick={onGrant}
          aria-label={`Grant ${m.name} access`}
        />
        <button
          type="button"
          className="icon-button danger"
          title="Remove"
          aria-label={`Remove ${m.name}`}
          disabled={busy}
          onClick={onRemove}
        >
          <Icon name="trash" />
        </button>
      </td>
    </tr>
  );
}
