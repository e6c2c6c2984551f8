import { useState } from 'react';
import type { Environment, Lease } from '../../../../daemon/api/types';
import { effectiveStatus } from '../../../../daemon/base/common/lease-status';
import { expireAllDone } from '../../../../daemon/base/common/expire-all';
import { ActionNotes, Button, EmptyState, Loading, Segmented } from '../../components/common';
import { Table } from '../../components/Table';
import { useAction } from '../../lib/action';
import { bella } from '../../lib/bella';
import { useLoad } from '../../lib/data';
import { concerns, isLeaseEvent, useRevision } from '../../lib/events';
import { plainDuration } from '../../lib/format';
import { useNow } from '../../lib/now';
import { LeaseRow } from './LeaseRow';
import { IssueLeaseDialog } from './IssueLeaseDialog';
import { ExpireAllDialog, RevokeDialog } from './ConfirmDialogs';
import './leases.css';

type Filter = 'active' | 'expired' | 'revoked' | 'all';
type Open = { kind: 'issue' } | { kind: 'revoke'; lease: Lease } | { kind: 'expire-all' } | null;

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
  const [open, setOpen] = useState<Open>(null);
  const action = useAction({ noticeMs: 6000 });

  const refresh = () => setLocalRev((r) => r + 1);
  const leases = data ?? [];
  const counts = { active: 0, expired: 0, revoked: 0, all: leases.length };
  for (const l of leases) counts[effectiveStatus(l, now)]++;
  const shown = filter === 'all' ? leases : leases.filter((l) => effectiveStatus(l, now) === filter);

  const renew = (lease: Lease) =>
    action.run(lease.id, async () => {
      const r = await bella().renewLease({ id: lease.id });
      refresh();
      const left = Math.round((Date.parse(r.lease.expiresAt) - Date.now()) / 1000);
      return `Renewed “${lease.reason}”: it now lasts ${plainDuration(left)}${r.capped ? ', capped by the lease policy' : ''}.`;
    });
  const issueButton = (label: string) => (
    <Button className="button primary" icon="plus" label={label} onClick={() => setOpen({ kind: 'issue' })} />
  );

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
          <Button
            className="button danger-outline"
            icon="flame"
            label="Expire all"
            onClick={() => setOpen({ kind: 'expire-all' })}
            title="Revoke every active lease and rotate this environment's credentials"
          />
          {issueButton('Issue lease')}
        </div>
      </div>
      <ActionNotes action={action} loadError={error} />
      {loading && !data ? (
        <Loading />
      ) : shown.length === 0 ? (
        filter === 'active' ? (
          <EmptyState icon="clock" title="No active leases" action={issueButton('Issue a lease')}>
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
        <Table className="leases-table" columns={['Reason', 'Scope', 'Issued', 'Expires in', 'Status']} actions>
          {shown.map((l) => (
            <LeaseRow
              key={l.id}
              lease={l}
              now={now}
              warnBeforeSeconds={environment.policy?.warnBeforeSeconds}
              renewing={action.busy === l.id}
              onRenew={() => void renew(l)}
              onRevoke={() => setOpen({ kind: 'revoke', lease: l })}
            />
          ))}
        </Table>
      )}
      {open?.kind === 'issue' && (
        <IssueLeaseDialog
          project={project}
          environment={environment}
          onClose={() => setOpen(null)}
          onIssued={refresh}
        />
      )}
      {open?.kind === 'revoke' && (
        <RevokeDialog
          lease={open.lease}
          onClose={() => setOpen(null)}
          onRevoked={() => {
            setOpen(null);
            action.say(`Revoked “${open.lease.reason}”. Its token is refused from now on.`);
            refresh();
          }}
        />
      )}
      {open?.kind === 'expire-all' && (
        <ExpireAllDialog
          project={project}
          environment={environment}
          active={counts.active}
          onClose={() => setOpen(null)}
          onDone={(r) => {
            setOpen(null);
            action.say(expireAllDone(r, environment.name, 'now'));
            refresh();
          }}
        />
      )}
    </>
  );
}
