import { useState } from 'react';
import type { AuditVerification } from '../../../../daemon/api/routes';
import { AUDIT_EVENTS, type AuditEntry, type AuditEvent, type Outcome } from '../../../../daemon/api/types';
import { EmptyState, ErrorNote, Spinner } from '../../components/common';
import { Icon } from '../../components/Icon';
import { bella } from '../../lib/bella';
import { useLoad } from '../../lib/data';
import { concerns, useRevision } from '../../lib/events';
import { auditToCsv, downloadText } from '../../lib/export';
import { formatDateTime, plural } from '../../lib/format';

const SHOWN = 500;

/** `LeaseExpiringSoon` → `Lease expiring soon`. */
export function eventLabel(e: string): string {
  const words = e.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function localDayStartIso(date: string): string {
  return new Date(`${date}T00:00:00`).toISOString();
}

/** The audit trail of an environment, filtered, exportable, with the chain's verification. */
export function AuditView({ project, environment }: { project: string; environment: string }) {
  const [event, setEvent] = useState<AuditEvent | ''>('');
  const [outcome, setOutcome] = useState<Outcome | ''>('');
  const [lease, setLease] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [manualRev, setManualRev] = useState(0);
  const rev = useRevision((e) => concerns(e, project, environment));
  const leaseOk = lease === '' || /^[a-z0-9]{16}$/.test(lease.trim());

  const { data, error, loading } = useLoad(
    () =>
      bella().listAudit({
        project,
        environment,
        ...(event ? { event } : {}),
        ...(outcome ? { outcome } : {}),
        ...(lease.trim() && leaseOk ? { lease: lease.trim() } : {}),
        ...(from ? { since: localDayStartIso(from) } : {}),
        ...(to ? { until: new Date(Date.parse(localDayStartIso(to)) + 86_400_000).toISOString() } : {}),
        limit: SHOWN,
      }),
    [project, environment, event, outcome, leaseOk ? lease.trim() : '', from, to, rev, manualRev],
  );
  const verify = useLoad(() => bella().verifyAudit({}), [rev, manualRev]);

  const entries = data?.entries ?? [];
  const filtered = !!(event || outcome || lease || from || to);
  const stamp = new Date().toISOString().slice(0, 10);
  const base = `bella-audit-${project}-${environment}-${stamp}`;

  return (
    <>
      <div className="toolbar audit-toolbar">
        <div className="filters" role="group" aria-label="Filter the audit trail">
          <div className="mini-field">
            <label htmlFor="audit-event">Event</label>
            <select id="audit-event" value={event} onChange={(e) => setEvent(e.target.value as AuditEvent | '')}>
              <option value="">All events</option>
              {AUDIT_EVENTS.map((ev) => (
                <option key={ev} value={ev}>
                  {eventLabel(ev)}
                </option>
              ))}
            </select>
          </div>
          <div className="mini-field">
            <label htmlFor="audit-outcome">Outcome</label>
            <select id="audit-outcome" value={outcome} onChange={(e) => setOutcome(e.target.value as Outcome | '')}>
              <option value="">Any</option>
              <option value="Success">Success</option>
              <option value="Denied">Denied</option>
            </select>
          </div>
          <div className="mini-field">
            <label htmlFor="audit-lease">Lease</label>
            <input
              id="audit-lease"
              className="mono lease-input"
              placeholder="lease id"
              value={lease}
              aria-invalid={!leaseOk}
              spellCheck={false}
              onChange={(e) => setLease(e.target.value)}
            />
          </div>
          <div className="mini-field">
            <label htmlFor="audit-from">From</label>
            <input id="audit-from" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
          </div>
          <div className="mini-field">
            <label htmlFor="audit-to">To</label>
            <input id="audit-to" type="date" value={to} onChange={(e) => setTo(e.target.value)} />
          </div>
          {filtered && (
            <button
              type="button"
              className="button ghost clear-filters"
              onClick={() => {
                setEvent('');
                setOutcome('');
                setLease('');
                setFrom('');
                setTo('');
              }}
            >
              Clear
            </button>
          )}
        </div>
      </div>
      <div className="audit-bar">
        <ChainBadge verify={verify} />
        <span className="muted small" data-testid="audit-count">
          {data ? `Showing ${plural(entries.length, 'entry', 'entries')}` : ''}
        </span>
        <span className="spacer" />
        <button type="button" className="button small" onClick={() => setManualRev((r) => r + 1)}>
          <Icon name="refresh" size={14} />
          <span>Refresh</span>
        </button>
        <button
          type="button"
          className="button small"
          disabled={entries.length === 0}
          onClick={() => downloadText(`${base}.csv`, auditToCsv(entries), 'text/csv')}
        >
          <Icon name="download" size={14} />
          <span>Export CSV</span>
        </button>
        <button
          type="button"
          className="button small"
          disabled={entries.length === 0}
          onClick={() => downloadText(`${base}.json`, JSON.stringify(entries, null, 2) + '\n', 'application/json')}
        >
          <Icon name="download" size={14} />
          <span>Export JSON</span>
        </button>
      </div>
      {!leaseOk && <p className="field-error">Lease ids are 16 lowercase letters or digits.</p>}
      <ErrorNote error={error} />
      {loading && !data ? (
        <div className="center-fill">
          <Spinner />
        </div>
      ) : entries.length === 0 ? (
        <EmptyState icon="list" title={filtered ? 'No entries match these filters' : 'Nothing audited yet'}>
          {filtered
            ? 'Widen the filters or clear them to see the whole trail.'
            : 'Every change and every secret read in this environment is recorded here.'}
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table audit-table">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Event</th>
                <th scope="col">Outcome</th>
                <th scope="col">By</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <AuditRow key={e.seq} entry={e} onLease={setLease} />
              ))}
            </tbody>
          </table>
          {data?.nextCursor != null && (
            <p className="muted table-note">Showing the newest {SHOWN}; narrow the filters to see older entries.</p>
          )}
        </div>
      )}
    </>
  );
}

function AuditRow({ entry: e, onLease }: { entry: AuditEntry; onLease: (id: string) => void }) {
  return (
    <tr data-event={e.event}>
      <td className="nowrap muted">
        <time dateTime={e.ts}>{formatDateTime(e.ts)}</time>
      </td>
      <td className="nowrap">{eventLabel(e.event)}</td>
      <td>
        <span className={`badge ${e.outcome === 'Success' ? 'good' : 'bad'}`}>{e.outcome}</span>
      </td>
      <td className="muted">{e.actor}</td>
      <td>
        <div className="details">
          {e.leaseId && (
            <button
              type="button"
              className="link mono lease-link"
              onClick={() => onLease(e.leaseId as string)}
              title="Show only this lease"
            >
              {e.leaseId}
            </button>
          )}
          {e.keys && e.keys.length > 0 && <span className="mono keys">{e.keys.join(', ')}</span>}
          {e.reason && <span className="reason">“{e.reason}”</span>}
          {e.message && <span className="muted">{e.message}</span>}
        </div>
      </td>
    </tr>
  );
}

function ChainBadge({
  verify,
}: {
  verify: {
    data: AuditVerification | undefined;
    error: unknown;
  };
}) {
  if (verify.error) return <span className="badge bad">Chain not verified</span>;
  if (!verify.data) return <span className="badge muted">Verifying chain…</span>;
  const v = verify.data;
  return v.ok ? (
    <span className="chain ok" title={`All ${v.entries} entries chain to one another by hash`}>
      <Icon name="shieldCheck" />
      <span>Hash chain verified</span>
    </span>
  ) : (
    <span className="chain broken" role="alert">
      <Icon name="shieldAlert" />
      <span>
        Chain broken at entry {v.firstBroken?.seq ?? '?'}: {v.firstBroken?.reason}
      </span>
    </span>
  );
}
