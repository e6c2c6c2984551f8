import { useEffect, useState } from 'react';
import { formatDuration } from '../../../../daemon/api/durations';
import type { AccessRequest } from '../../../../daemon/api/requests';
import { plural } from '../../../../daemon/base/common/plural';
import { ActionNotes, EmptyState, Loading } from '../../components/common';
import { Icon } from '../../components/Icon';
import { PageHeader, SectionCard } from '../../components/Page';
import { Table } from '../../components/Table';
import { useAction } from '../../lib/action';
import { bella } from '../../lib/bella';
import { useLoad } from '../../lib/data';
import { useRevision } from '../../lib/events';
import { formatDateTime } from '../../lib/format';
import { useNow } from '../../lib/now';
import { ApproveDialog, DenyDialog } from './RequestDialogs';
import { HistoryRow, PendingRow } from './RequestRows';
import './requests.css';

/** Read again this often besides the daemon's events: a pending request's window may pass meanwhile. */
const POLL_MS = 30_000;

type Open = { kind: 'approve' | 'deny'; request: AccessRequest } | null;

/**
 * The Requests inbox: teammates' pending access requests first, each with Approve (optionally a
 * shorter ttl) and Deny (with a reason); then the history: approved, denied, expired and break-glass
 * grants with who decided and why, a break-glass grant waiting for the owner's Review.
 * `opened` is the request a desktop notification leads to (`#/requests/req_…`).
 */
export function RequestsView({ opened }: { opened?: string }) {
  const now = useNow();
  const [rev, setRev] = useState(0);
  // Its own events, and a resync after a reconnect (which names no project).
  const changed = useRevision((e) => e.type === 'DataChanged' && (e.resource === 'requests' || !e.project));
  const list = useLoad(() => bella().listAccessRequests({}), [rev, changed]);
  const [open, setOpen] = useState<Open>(null);
  const action = useAction();
  const refresh = () => setRev((n) => n + 1);
  useEffect(() => {
    const t = setInterval(refresh, POLL_MS);
    return () => clearInterval(t);
  }, []);

  const all = list.data?.requests ?? [];
  const pending = all.filter((r) => r.status === 'pending');
  const history = all.filter((r) => r.status !== 'pending');
  const unreviewed = history.filter((r) => r.breakGlass && !r.reviewedAt).length;
  const missing = opened && list.data && !all.some((r) => r.id === opened);
  const busy = action.busy !== null;

  const review = (r: AccessRequest) =>
    action.run(`review:${r.id}`, async () => {
      await bella().reviewAccessRequest({ id: r.id });
      refresh();
      return `Reviewed ${r.requester}'s break-glass grant.`;
    });

  return (
    <div className="page requests-page">
      <PageHeader
        eyebrow="This daemon"
        title="Requests"
        meta={
          <>
            <span>{plural(pending.length, 'pending request')}</span>
            {unreviewed > 0 && (
              <>
                <span aria-hidden>·</span>
                <span>{plural(unreviewed, 'break-glass grant')} to review</span>
              </>
            )}
          </>
        }
      />

      <p className="explainer">
        <Icon name="shield" size={18} />
        <span>
          Teammates with a <strong>request</strong> grant ask here for a lease; its clock starts when you approve it.
          Nobody approves their own request, and approval happens here or with <code>bella requests</code>, never by
          chat.
        </span>
      </p>

      {missing && (
        <div className="note note-error" role="alert">
          <Icon name="alert" />
          <span>No request {opened} on this daemon (it may have been pruned).</span>
        </div>
      )}
      <ActionNotes action={action} loadError={list.error} />

      <SectionCard
        id="pending-heading"
        title="Pending"
        intro="The one whose window closes first is at the top; unanswered, a request expires."
      >
        {!list.data ? (
          list.loading ? (
            <Loading />
          ) : null
        ) : pending.length === 0 ? (
          <EmptyState icon="check" title="Nothing waits for you">
            A teammate’s <code>bella request</code> shows up here, with a desktop notification.
          </EmptyState>
        ) : (
          <Table
            className="requests-table"
            columns={['Person', 'Asks for', 'For', 'Why', 'Answer within']}
            actions
            inner
          >
            {[...pending]
              .sort((a, b) => Date.parse(a.windowEndsAt) - Date.parse(b.windowEndsAt))
              .map((r) => (
                <PendingRow
                  key={r.id}
                  r={r}
                  now={now}
                  opened={r.id === opened}
                  busy={busy}
                  onApprove={() => setOpen({ kind: 'approve', request: r })}
                  onDeny={() => setOpen({ kind: 'deny', request: r })}
                />
              ))}
          </Table>
        )}
      </SectionCard>

      {history.length > 0 && (
        <SectionCard
          id="history-heading"
          title="History"
          intro="Decided and expired requests, newest first; the audit trail keeps every step."
        >
          <Table
            className="requests-table history"
            columns={['Person', 'Asked for', 'Outcome', 'Decided', 'When']}
            actions
            inner
          >
            {history.map((r) => (
              <HistoryRow
                key={r.id}
                r={r}
                now={now}
                opened={r.id === opened}
                busy={busy}
                onReview={() => void review(r)}
              />
            ))}
          </Table>
        </SectionCard>
      )}

      {open?.kind === 'approve' && (
        <ApproveDialog
          request={open.request}
          onClose={() => setOpen(null)}
          onApproved={(r, lease) => {
            setOpen(null);
            refresh();
            action.say(
              `Approved ${r.requester}'s request: lease ${lease.id} for ${formatDuration(Math.round((Date.parse(lease.expiresAt) - Date.parse(lease.issuedAt)) / 1000))}, until ${formatDateTime(lease.expiresAt)}. Her token waits for her.`,
            );
          }}
        />
      )}
      {open?.kind === 'deny' && (
        <DenyDialog
          request={open.request}
          onClose={() => setOpen(null)}
          onDenied={(r) => {
            setOpen(null);
            refresh();
            action.say(`Denied ${r.requester}'s request: ${r.decision ?? ''}`);
          }}
        />
      )}
    </div>
  );
}
