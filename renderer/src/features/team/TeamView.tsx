import { useEffect, useState } from 'react';
import type { ListenerStatus } from '../../../../daemon/api/routes';
import { formatGrant, type Grant, type TeamMember } from '../../../../daemon/api/team';
import { plural } from '../../../../daemon/base/common/plural';
import { ActionNotes, Button, EmptyState, Loading } from '../../components/common';
import { Icon } from '../../components/Icon';
import { PageHeader, SectionCard } from '../../components/Page';
import { Table } from '../../components/Table';
import { useAction } from '../../lib/action';
import { bella } from '../../lib/bella';
import { useLoad } from '../../lib/data';
import { formatDateTime } from '../../lib/format';
import { useNow } from '../../lib/now';
import { InviteDialog } from './InviteDialog';
import { ListenerOffNote } from './ListenerOffNote';
import { GrantDialog, RemoveMemberDialog } from './MemberDialogs';
import { MemberRow } from './MemberRow';
import './team.css';

/**
 * How often the list is read again while an invite is open (someone may join at any moment), and
 * otherwise (last seen): the daemon sends no event for the team.
 */
const POLL_OPEN_INVITES_MS = 2_000;
const POLL_MS = 30_000;

type Open = { kind: 'invite' } | { kind: 'grant'; member: TeamMember } | { kind: 'remove'; member: TeamMember } | null;

/** True when the listener serves: invites need it, teammates enrol over it. */
function serving(s: ListenerStatus | undefined): boolean {
  return !!s && s.enabled && s.listening.length > 0;
}

/** The team: people with their roles, grants and devices; invite, grant, take back, remove. */
export function TeamView() {
  const now = useNow();
  const [rev, setRev] = useState(0);
  const team = useLoad(() => bella().listTeam({}), [rev]);
  const [listenerRev, setListenerRev] = useState(0);
  const listener = useLoad(() => bella().getListener({}), [listenerRev]);
  const [open, setOpen] = useState<Open>(null);
  const action = useAction();
  const refresh = () => setRev((n) => n + 1);

  const members = team.data?.members ?? [];
  const invites = team.data?.invites ?? [];
  const waiting = invites.length > 0;
  useEffect(() => {
    const t = setInterval(() => setRev((n) => n + 1), waiting ? POLL_OPEN_INVITES_MS : POLL_MS);
    return () => clearInterval(t);
  }, [waiting]);

  const listenerOff = listener.data !== undefined && !serving(listener.data.listener);
  const busy = action.busy !== null;

  const ungrant = (m: TeamMember, g: Grant) =>
    action.run(`ungrant:${m.name}`, async () => {
      await bella().ungrantTeamMember({ name: m.name, project: g.project, environment: g.environment });
      refresh();
      return `Took back ${m.name}'s ${formatGrant(g)}.`;
    });

  const inviteButton = (className: string, label: string) => (
    <Button
      className={className}
      icon="plus"
      label={label}
      disabled={listenerOff}
      onClick={() => setOpen({ kind: 'invite' })}
    />
  );

  return (
    <div className="page team-page">
      <PageHeader
        eyebrow="This daemon"
        title="Team"
        meta={
          <>
            <span>{plural(members.length, 'person', 'people')}</span>
            {waiting && (
              <>
                <span aria-hidden>·</span>
                <span>{plural(invites.length, 'open invite')}</span>
              </>
            )}
          </>
        }
        actions={inviteButton('button primary', 'Invite')}
      />

      <p className="explainer">
        <Icon name="shield" size={18} />
        <span>
          Each teammate’s device holds its own key, enrolled once by an invite code, and reaches this daemon over{' '}
          <strong>mutual TLS</strong> on the listener. Members see only what they are granted; admins everything but the
          team and the listener. You, on this machine, are the owner.
        </span>
      </p>

      {listenerOff && <ListenerOffNote />}
      <ActionNotes action={action} loadError={team.error} />

      <SectionCard
        id="people-heading"
        title="People"
        intro="Removed people leave this list; the audit trail keeps what they did."
      >
        {!team.data ? (
          team.loading ? (
            <Loading />
          ) : null
        ) : members.length === 0 ? (
          <EmptyState icon="users" title="No teammates yet" action={inviteButton('button', 'Invite a teammate')}>
            Invite someone: she joins from her machine with a one-time code, and works with her own key instead of
            pasted tokens.
          </EmptyState>
        ) : (
          <Table className="team-table" columns={['Person', 'Role', 'Grants', 'Devices']} actions inner>
            {members.map((m) => (
              <MemberRow
                key={m.name}
                member={m}
                now={now}
                busy={busy}
                onGrant={() => setOpen({ kind: 'grant', member: m })}
                onUngrant={(g) => void ungrant(m, g)}
                onRemove={() => setOpen({ kind: 'remove', member: m })}
              />
            ))}
          </Table>
        )}
      </SectionCard>

      {waiting && (
        <SectionCard
          id="invites-heading"
          title="Open invites"
          intro="Codes not redeemed yet. Inviting the same name again replaces its code."
        >
          <Table className="invites-table" columns={['Person', 'Role', 'Grants', 'Code expires']} inner>
            {invites.map((i) => (
              <tr key={i.id} data-invite={i.name}>
                <td className="mono">{i.name}</td>
                <td>{i.role === 'admin' ? 'Admin' : 'Member'}</td>
                <td className="mono small">{i.grants.map(formatGrant).join(', ') || '—'}</td>
                <td className="small">{formatDateTime(i.expiresAt)}</td>
              </tr>
            ))}
          </Table>
        </SectionCard>
      )}

      {open?.kind === 'invite' && (
        <InviteDialog
          onClose={() => setOpen(null)}
          onInvited={refresh}
          onListenerOff={() => setListenerRev((n) => n + 1)}
        />
      )}
      {open?.kind === 'grant' && (
        <GrantDialog
          member={open.member}
          onClose={() => setOpen(null)}
          onGranted={(m) => {
            setOpen(null);
            refresh();
            action.say(`${m.name} now has ${m.grants.map(formatGrant).join(', ')}.`);
          }}
        />
      )}
      {open?.kind === 'remove' && (
        <RemoveMemberDialog
          member={open.member}
          onClose={() => setOpen(null)}
          onRemoved={(r, revoked) => {
            setOpen(null);
            refresh();
            action.say(
              `Removed ${r.removed}: ${plural(r.devices, 'device')} refused from now on${revoked ? `; ${plural(r.revokedLeases, 'lease')} revoked` : ''}.`,
            );
          }}
        />
      )}
    </div>
  );
}
