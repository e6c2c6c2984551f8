import { useState } from 'react';
import type { AuditEntry } from '../../../../daemon/api/types';
import { plural } from '../../../../daemon/base/common/plural';
import { Button, EmptyState, ErrorNote, Loading, Spinner } from '../../components/common';
import { Table } from '../../components/Table';
import { bella } from '../../lib/bella';
import { concerns, useRevision } from '../../lib/events';
import { auditToCsv, downloadText } from '../../lib/export';
import { AuditFilters, leaseFilterOk, NO_FILTERS, type AuditFilterFields } from './AuditFilters';
import { AuditRow } from './AuditRow';
import { useAuditTrail, type AuditFilter } from './audit-trail';
import { BrokenChain, ChainResult, type Verify } from './ChainCheck';
import './audit.css';

/** The formats the entries shown can be saved in. */
const EXPORTS = [
  { ext: 'csv', type: 'text/csv', text: auditToCsv },
  { ext: 'json', type: 'application/json', text: (entries: AuditEntry[]) => JSON.stringify(entries, null, 2) + '\n' },
];

function localDayStartIso(date: string): string {
  return new Date(`${date}T00:00:00`).toISOString();
}

/** The listing's filter from the filter fields: a lease id only once it is whole, the `to` day included. */
function toFilter(f: AuditFilterFields, project?: string, environment?: string): AuditFilter {
  const lease = f.lease.trim();
  return {
    ...(project ? { project } : {}),
    ...(environment ? { environment } : {}),
    ...(f.event ? { event: f.event } : {}),
    ...(f.outcome ? { outcome: f.outcome } : {}),
    ...(lease && leaseFilterOk(f.lease) ? { lease } : {}),
    ...(f.from ? { since: localDayStartIso(f.from) } : {}),
    ...(f.to ? { until: new Date(Date.parse(localDayStartIso(f.to)) + 86_400_000).toISOString() } : {}),
  };
}

/**
 * The audit trail, newest first and paged, filtered, exportable; the chain verified on demand (a
 * verification reads the whole trail, so it never runs by itself). Scoped to one environment, or
 * without one the whole daemon's trail.
 */
export function AuditView({ project, environment }: { project?: string; environment?: string }) {
  const [fields, setFields] = useState<AuditFilterFields>(NO_FILTERS);
  const [manualRev, setManualRev] = useState(0);
  const rev = useRevision((e) => concerns(e, project, environment));
  const trail = useAuditTrail(toFilter(fields, project, environment), rev + manualRev);
  const [verify, setVerify] = useState<Verify>({ state: 'idle' });
  const whole = project === undefined;

  async function runVerify() {
    setVerify({ state: 'running' });
    try {
      const result = await bella().verifyAudit({});
      setVerify({ state: 'done', result, at: new Date().toISOString() });
    } catch (err) {
      setVerify({ state: 'error', error: err });
    }
  }

  const current = trail.current;
  const entries = current?.entries ?? [];
  const filtered = JSON.stringify(fields) !== JSON.stringify(NO_FILTERS);
  const stamp = new Date().toISOString().slice(0, 10);
  const base = whole ? `bella-audit-${stamp}` : `bella-audit-${project}-${environment}-${stamp}`;

  return (
    <>
      <AuditFilters value={fields} onChange={setFields} />
      <div className="audit-bar">
        <ChainResult verify={verify} onVerify={runVerify} />
        <span className="muted small" data-testid="audit-count">
          {current
            ? `${plural(entries.length, 'entry', 'entries')}, newest first${current.nextCursor !== null ? '; older below' : ''}`
            : ''}
        </span>
        <span className="spacer" />
        <Button className="button small" icon="refresh" label="Refresh" onClick={() => setManualRev((r) => r + 1)} />
        {EXPORTS.map((x) => (
          <Button
            key={x.ext}
            className="button small"
            icon="download"
            label={`Export ${x.ext.toUpperCase()}`}
            disabled={entries.length === 0}
            title="The entries shown"
            onClick={() => downloadText(`${base}.${x.ext}`, x.text(entries), x.type)}
          />
        ))}
      </div>
      {verify.state === 'done' && !verify.result.ok && <BrokenChain result={verify.result} />}
      {verify.state === 'error' && <ErrorNote error={verify.error} />}
      {!leaseFilterOk(fields.lease) && <p className="field-error">Lease ids are 16 lowercase letters or digits.</p>}
      <ErrorNote error={trail.error} />
      {trail.loading && !current ? (
        <Loading />
      ) : entries.length === 0 ? (
        <EmptyState icon="list" title={filtered ? 'No entries match these filters' : 'Nothing audited yet'}>
          {filtered
            ? 'Widen the filters or clear them to see the whole trail.'
            : whole
              ? 'Every change, every secret read and every refused token is recorded here.'
              : 'Every change and every secret read in this environment is recorded here.'}
        </EmptyState>
      ) : (
        <Table
          className="audit-table"
          columns={['Time', 'Event', 'Outcome', 'By', ...(whole ? ['Where'] : []), 'Details']}
          footer={
            current?.nextCursor != null && (
              <div className="table-note">
                <Button
                  className="button small load-older"
                  icon={trail.loadingOlder ? <Spinner label="Loading older entries" /> : 'chevron'}
                  label="Load older"
                  disabled={trail.loadingOlder}
                  onClick={trail.loadOlder}
                />
              </div>
            )
          }
        >
          {entries.map((e) => (
            <AuditRow key={e.seq} entry={e} onLease={(lease) => setFields({ ...fields, lease })} whole={whole} />
          ))}
        </Table>
      )}
    </>
  );
}
