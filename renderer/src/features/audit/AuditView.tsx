import { useEffect, useState } from 'react';
import type { AuditVerification } from '../../../../daemon/api/routes';
import { AUDIT_EVENTS, type AuditEntry, type AuditEvent, type Outcome } from '../../../../daemon/api/types';
import { EmptyState, ErrorNote, Spinner } from '../../components/common';
import { Icon } from '../../components/Icon';
import { bella } from '../../lib/bella';
import { concerns, useRevision } from '../../lib/events';
import { auditToCsv, downloadText } from '../../lib/export';
import { formatDateTime } from '../../lib/format';
import { plural } from '../../../../daemon/base/common/plural';

/** Entries per page: the newest first, then "Load older" for the next page. */
export const AUDIT_PAGE = 100;

/** `LeaseExpiringSoon` → `Lease expiring soon`. */
export function eventLabel(e: string): string {
  const words = e.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function localDayStartIso(date: string): string {
  return new Date(`${date}T00:00:00`).toISOString();
}

/** What is loaded of the trail for one set of filters: newest first, `nextCursor` pages on. */
interface Loaded {
  key: string;
  entries: AuditEntry[];
  nextCursor: number | null;
}

/**
 * Merges a fresh first page into what is loaded: entries newer than the newest shown go on top, the
 * older pages stay. When the whole fresh page is newer (more arrived than a page), it starts over.
 */
export function mergeNewest(prev: Loaded | null, key: string, page: Omit<Loaded, 'key'>): Loaded {
  if (!prev || prev.key !== key) return { key, ...page };
  const top = prev.entries[0]?.seq ?? 0;
  const fresh = page.entries.filter((e) => e.seq > top);
  if (fresh.length === page.entries.length && page.nextCursor !== null && prev.entries.length > 0) {
    return { key, ...page };
  }
  return { ...prev, entries: [...fresh, ...prev.entries] };
}

type Verify =
  | { state: 'idle' }
  | { state: 'running' }
  | { state: 'done'; result: AuditVerification; at: string }
  | { state: 'error'; error: unknown };

/**
 * The audit trail, newest first and paged, filtered, exportable; the chain verified on demand (a
 * verification reads the whole trail, so it never runs by itself). Scoped to one environment, or
 * without one the whole daemon's trail.
 */
export function AuditView({ project, environment }: { project?: string; environment?: string }) {
  const [event, setEvent] = useState<AuditEvent | ''>('');
  const [outcome, setOutcome] = useState<Outcome | ''>('');
  const [lease, setLease] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [manualRev, setManualRev] = useState(0);
  const rev = useRevision((e) => concerns(e, project, environment));
  const leaseOk = lease === '' || /^[a-z0-9]{16}$/.test(lease.trim());
  const whole = project === undefined;

  const filter = {
    ...(project ? { project } : {}),
    ...(environment ? { environment } : {}),
    ...(event ? { event } : {}),
    ...(outcome ? { outcome } : {}),
    ...(lease.trim() && leaseOk ? { lease: lease.trim() } : {}),
    ...(from ? { since: localDayStartIso(from) } : {}),
    ...(to ? { until: new Date(Date.parse(localDayStartIso(to)) + 86_400_000).toISOString() } : {}),
  };
  const key = JSON.stringify(filter);

  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [verify, setVerify] = useState<Verify>({ state: 'idle' });

  useEffect(() => {
    let live = true;
    setLoading(true);
    bella()
      .listAudit({ ...filter, limit: AUDIT_PAGE })
      .then(
        (page) => {
          if (!live) return;
          setLoaded((prev) => mergeNewest(prev, key, page));
          setError(null);
        },
        (err) => live && setError(err),
      )
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
    // `key` stands for `filter`.
  }, [key, rev, manualRev]);

  async function loadOlder() {
    if (!loaded || loaded.nextCursor === null) return;
    const at = loaded;
    setLoadingOlder(true);
    try {
      const page = await bella().listAudit({ ...filter, limit: AUDIT_PAGE, before: at.nextCursor as number });
      setLoaded((prev) => {
        if (!prev || prev.key !== at.key) return prev;
        const oldest = prev.entries.at(-1)?.seq ?? Infinity;
        return {
          ...prev,
          entries: [...prev.entries, ...page.entries.filter((e) => e.seq < oldest)],
          nextCursor: page.nextCursor,
        };
      });
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setLoadingOlder(false);
    }
  }

  async function runVerify() {
    setVerify({ state: 'running' });
    try {
      const result = await bella().verifyAudit({});
      setVerify({ state: 'done', result, at: new Date().toISOString() });
    } catch (err) {
      setVerify({ state: 'error', error: err });
    }
  }

  const current = loaded && loaded.key === key ? loaded : null;
  const entries = current?.entries ?? [];
  const filtered = !!(event || outcome || lease || from || to);
  const stamp = new Date().toISOString().slice(0, 10);
  const base = whole ? `bella-audit-${stamp}` : `bella-audit-${project}-${environment}-${stamp}`;

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
        <ChainResult verify={verify} onVerify={runVerify} />
        <span className="muted small" data-testid="audit-count">
          {current
            ? `${plural(entries.length, 'entry', 'entries')}, newest first${current.nextCursor !== null ? '; older below' : ''}`
            : ''}
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
          title="The entries shown"
          onClick={() => downloadText(`${base}.csv`, auditToCsv(entries), 'text/csv')}
        >
          <Icon name="download" size={14} />
          <span>Export CSV</span>
        </button>
        <button
          type="button"
          className="button small"
          disabled={entries.length === 0}
          title="The entries shown"
          onClick={() => downloadText(`${base}.json`, JSON.stringify(entries, null, 2) + '\n', 'application/json')}
        >
          <Icon name="download" size={14} />
          <span>Export JSON</span>
        </button>
      </div>
      {verify.state === 'done' && !verify.result.ok && <BrokenChain result={verify.result} />}
      {verify.state === 'error' && <ErrorNote error={verify.error} />}
      {!leaseOk && <p className="field-error">Lease ids are 16 lowercase letters or digits.</p>}
      <ErrorNote error={error} />
      {loading && !current ? (
        <div className="center-fill">
          <Spinner />
        </div>
      ) : entries.length === 0 ? (
        <EmptyState icon="list" title={filtered ? 'No entries match these filters' : 'Nothing audited yet'}>
          {filtered
            ? 'Widen the filters or clear them to see the whole trail.'
            : whole
              ? 'Every change, every secret read and every refused token is recorded here.'
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
                {whole && <th scope="col">Where</th>}
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <AuditRow key={e.seq} entry={e} onLease={setLease} whole={whole} />
              ))}
            </tbody>
          </table>
          {current?.nextCursor != null && (
            <div className="table-note">
              <button type="button" className="button small load-older" disabled={loadingOlder} onClick={loadOlder}>
                {loadingOlder ? <Spinner label="Loading older entries" /> : <Icon name="chevron" size={14} />}
                <span>Load older</span>
              </button>
            </div>
          )}
        </div>
      )}
    </>
  );
}

function AuditRow({ entry: e, onLease, whole }: { entry: AuditEntry; onLease: (id: string) => void; whole: boolean }) {
  const aggregated = e.count !== undefined && e.count > 1;
  return (
    <tr data-event={e.event} data-seq={e.seq} className={aggregated ? 'aggregated' : undefined}>
      <td className="nowrap muted">
        <time dateTime={e.ts}>{formatDateTime(e.ts)}</time>
      </td>
      <td className="nowrap">{eventLabel(e.event)}</td>
      <td className="nowrap">
        <span className={`badge ${e.outcome === 'Success' ? 'good' : 'bad'}`}>{e.outcome}</span>
        {aggregated && (
          <span
            className="count-badge"
            data-testid="audit-entry-count"
            title={`One entry for ${e.count} refused requests`}
          >
            × {e.count}
          </span>
        )}
      </td>
      <td className="muted">
        <span className="by">{e.actor}</span>
        {e.source && (
          <span className="source mono" data-testid="audit-entry-source" title="Where the request came from">
            {e.source === 'socket' ? 'this machine' : `from ${e.source}`}
          </span>
        )}
      </td>
      {whole && (
        <td className="mono small nowrap">
          {e.project ? `${e.project}${e.environment ? `/${e.environment}` : ''}` : <span className="muted">—</span>}
        </td>
      )}
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

function ChainResult({ verify, onVerify }: { verify: Verify; onVerify: () => void }) {
  const button = (label: string) => (
    <button type="button" className="button small" onClick={onVerify} disabled={verify.state === 'running'}>
      <Icon name="shieldCheck" size={14} />
      <span>{label}</span>
    </button>
  );
  if (verify.state === 'running') {
    return (
      <span className="chain pending" role="status">
        <Spinner label="Verifying the hash chain" />
        <span>Verifying the whole trail…</span>
      </span>
    );
  }
  if (verify.state !== 'done') return button('Verify chain');
  const v = verify.result;
  const checked = `The whole trail, checked at ${formatDateTime(verify.at)}`;
  return (
    <>
      {v.ok ? (
        <span className="chain ok" role="status" title={checked}>
          <Icon name="shieldCheck" />
          <span>Hash chain verified · {plural(v.entries, 'entry', 'entries')}</span>
        </span>
      ) : (
        <span className="chain broken" title={checked}>
          <Icon name="shieldAlert" />
          <span>Chain broken</span>
        </span>
      )}
      {button('Verify again')}
    </>
  );
}

function BrokenChain({ result }: { result: AuditVerification }) {
  const b = result.firstBroken;
  return (
    <div className="note note-error chain-detail" role="alert" data-testid="chain-broken">
      <Icon name="shieldAlert" />
      <span>
        {b ? (
          <>
            The chain breaks at entry <strong>{b.seq ?? 'unknown'}</strong> in <code>{b.file}</code> at byte {b.offset}:{' '}
            {b.reason}. Entries from there on cannot be trusted; {plural(result.entries, 'entry', 'entries')} checked.
          </>
        ) : (
          <>The chain does not verify; {plural(result.entries, 'entry', 'entries')} checked.</>
        )}
      </span>
    </div>
  );
}
