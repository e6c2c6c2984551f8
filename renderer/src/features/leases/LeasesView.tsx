import { useEffect, useState } from 'react';
import type { Environment, Lease } from '../../../../daemon/api/types';
import { EmptyState, ErrorNote, Segmented, Spinner } from '../../components/common';
import { Icon } from '../../components/Icon';
import { bella } from '../../lib/bella';
import { useLoad } from '../../lib/data';
import { concerns, isLeaseEvent, useRevision } from '../../lib/events';
import { formatDateTime, formatRelative, plainDuration, plural } from '../../lib/format';
import { useNow } from '../../lib/now';
import { Countdown, ScopeChips, StatusBadge, effectiveStatus } from './parts';
import { IssueLeaseDialog } from './IssueLeaseDialog';
import { ExpireAllDialog, RevokeDialog } from './ConfirmDialogs';

type Filter = 'active' | 'expired' | 'revoked' | 'all';

/** The leases of an environment with live countdowns, and the actions on them. */
export function LeasesView({ project, environment }: { project: string; environment: Environment }) {
  const env = environment.slug;
  const rev = useRevision((e) => (isLeaseEvent(e) || e.project === undefined) && concerns(e, project, env));
  const [localRev, setLocalRev] = useState(0);
  const { data, error, loading } = useLoad(
    () =>
      bella()
        .listLeases({ project, environment: env, all: true, limit: 10_000 })
        .then((r) => r.leases),
    [project, env, rev, localRev],
  );
  const now = useNow();
  const [filter, setFilter] = useState<Filter>('active');
  const [dialog, setDialog] = useState<
    { kind: 'issue' } | { kind: 'revoke'; lease: Lease } | { kind: 'expire-all' } | null
  >(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    if (!notice) return;
    const t = setTimeout(() => setNotice(null), 6000);
    return () => clearTimeout(t);
  }, [notice]);

  const refresh = () => setLocalRev((r) => r + 1);
  const leases = data ?? [];
  const counts = { active: 0, expired: 0, revoked: 0, all: leases.length };
  for (const l of leases) counts[effectiveStatus(l, now)]++;
  const shown = filter === 'all' ? leases : leases.filter((l) => effectiveStatus(l, now) === filter);
  const warnBefore = environment.policy?.warnBeforeSeconds;

  async function renew(lease: Lease) {
    setBusy(lease.id);
    setActionError(null);
    try {
      const r = await bella().renewLease({ id: lease.id });
      const left = Math.round((Date.parse(r.lease.expiresAt) - Date.now()) / 1000);
      setNotice(
        `Renewed “${lease.reason}”: it now lasts ${plainDuration(left)}${r.capped ? ', capped by the lease policy' : ''}.`,
      );
      refresh();
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(null);
    }
  }

  return (
    <>
      <div className="toolbar">
        <Segmented<Filter>
          label="Show leases"
          value={filter}
          onChange={setFilter}
          options={[
            { value: 'active', label: 'Active', count: counts.active },
            { value: 'expired', label: 'Expired', count: counts.expired },
            { value: 'revoked', label: 'Revoked', count: counts.revoked },
            { value: 'all', label: 'All', count: counts.all },
          ]}
        />
        <div className="toolbar-actions">
          <button
            type="button"
            className="button danger-outline"
            onClick={() => setDialog({ kind: 'expire-all' })}
            title="Revoke every active lease and rotate this environment's credentials"
          >
            <Icon name="flame" />
            <span>Expire all</span>
          </button>
          <button type="button" className="button primary" onClick={() => setDialog({ kind: 'issue' })}>
            <Icon name="plus" />
            <span>Issue lease</span>
          </button>
        </div>
      </div>
      {notice && (
        <div className="note note-success" role="status">
          <Icon name="check" />
          <span>{notice}</span>
        </div>
      )}
      <ErrorNote error={error ?? actionError} onDismiss={actionError ? () => setActionError(null) : undefined} />
      {loading && !data ? (
        <div className="center-fill">
          <Spinner />
        </div>
      ) : shown.length === 0 ? (
        filter === 'active' ? (
          <EmptyState
            icon="clock"
            title="No active leases"
            action={
              <button type="button" className="button primary" onClick={() => setDialog({ kind: 'issue' })}>
                <Icon name="plus" />
                <span>Issue a lease</span>
              </button>
            }
          >
            Issue a lease to give a person or a job a token that reads only the keys it needs, for as long as it needs
            them. {environment.secretCount === 0 ? 'Add some secrets first so there is something to grant.' : ''}
          </EmptyState>
        ) : (
          <EmptyState icon="list" title={`No ${filter === 'all' ? '' : `${filter} `}leases`}>
            {filter === 'all'
              ? 'Leases you issue here appear in this list.'
              : `Leases that are ${filter} appear here for a while, then move to the audit trail.`}
          </EmptyState>
        )
      ) : (
        <div className="table-wrap">
          <table className="table leases-table">
            <thead>
              <tr>
                <th scope="col">Reason</th>
                <th scope="col">Scope</th>
                <th scope="col">Issued</th>
                <th scope="col">Expires in</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((l) => {
                const status = effectiveStatus(l, now);
                return (
                  <tr key={l.id} data-lease={l.id}>
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
                      <Countdown lease={l} now={now} warnBeforeSeconds={warnBefore} />
                    </td>
                    <td>
                      <StatusBadge status={status} />
                    </td>
                    <td className="row-actions">
                      {status === 'active' && (
                        <>
                          <button
                            type="button"
                            className="button small"
                            disabled={busy === l.id}
                            onClick={() => renew(l)}
                            aria-label={`Renew lease ${l.id}`}
                          >
                            <Icon name="refresh" size={14} />
                            <span>Renew</span>
                          </button>
                          <button
                            type="button"
                            className="button small danger-outline"
                            onClick={() => setDialog({ kind: 'revoke', lease: l })}
                            aria-label={`Revoke lease ${l.id}`}
                          >
                            <Icon name="ban" size={14} />
                            <span>Revoke</span>
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {dialog?.kind === 'issue' && (
        <IssueLeaseDialog
          project={project}
          environment={environment}
          onClose={() => setDialog(null)}
          onIssued={refresh}
        />
      )}
      {dialog?.kind === 'revoke' && (
        <RevokeDialog
          lease={dialog.lease}
          onClose={() => setDialog(null)}
          onRevoked={() => {
            setDialog(null);
            setNotice(`Revoked “${dialog.lease.reason}”. Its token is refused from now on.`);
            refresh();
          }}
        />
      )}
      {dialog?.kind === 'expire-all' && (
        <ExpireAllDialog
          project={project}
          environment={environment}
          active={counts.active}
          onClose={() => setDialog(null)}
          onDone={(r) => {
            setDialog(null);
            setNotice(
              `Revoked ${plural(r.revoked, 'lease')} and rotated the credentials of ${environment.name} (${plural(r.reencryptedSecrets, 'secret')} re-encrypted). No earlier token will work again.`,
            );
            refresh();
          }}
        />
      )}
    </>
  );
}
