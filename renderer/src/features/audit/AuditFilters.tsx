import { AUDIT_EVENTS, type AuditEvent, type Outcome } from '../../../../daemon/api/types';
import { FilterSelect } from '../../components/common';
import { eventLabel } from './event-label';

const OUTCOMES: { value: Outcome; label: string }[] = [
  { value: 'Success', label: 'Success' },
  { value: 'Denied', label: 'Denied' },
];

/** What the audit filters hold: each empty when not filtering on it; `from` and `to` are local dates. */
export interface AuditFilterFields {
  event: AuditEvent | '';
  outcome: Outcome | '';
  lease: string;
  from: string;
  to: string;
}

export const NO_FILTERS: AuditFilterFields = { event: '', outcome: '', lease: '', from: '', to: '' };

/** A lease filter is a lease id (16 lowercase letters or digits), or empty. */
export function leaseFilterOk(lease: string): boolean {
  return lease === '' || /^[a-z0-9]{16}$/.test(lease.trim());
}

/** The audit trail's filter row: event, outcome, lease, from, to, and Clear while any is set. */
export function AuditFilters({
  value: f,
  onChange,
}: {
  value: AuditFilterFields;
  onChange: (next: AuditFilterFields) => void;
}) {
  const set = (change: Partial<AuditFilterFields>) => onChange({ ...f, ...change });
  const filtered = !!(f.event || f.outcome || f.lease || f.from || f.to);
  return (
    <div className="toolbar audit-toolbar">
      <div className="filters" role="group" aria-label="Filter the audit trail">
        <FilterSelect<AuditEvent>
          id="audit-event"
          label="Event"
          value={f.event}
          onChange={(event) => set({ event })}
          any="All events"
          options={AUDIT_EVENTS.map((ev) => ({ value: ev, label: eventLabel(ev) }))}
        />
        <FilterSelect<Outcome>
          id="audit-outcome"
          label="Outcome"
          value={f.outcome}
          onChange={(outcome) => set({ outcome })}
          any="Any"
          options={OUTCOMES}
        />
        <div className="mini-field">
          <label htmlFor="audit-lease">Lease</label>
          <input
            id="audit-lease"
            className="mono lease-input"
            placeholder="lease id"
            value={f.lease}
            aria-invalid={!leaseFilterOk(f.lease)}
            spellCheck={false}
            onChange={(e) => set({ lease: e.target.value })}
          />
        </div>
        <DateField id="audit-from" label="From" value={f.from} onChange={(from) => set({ from })} />
        <DateField id="audit-to" label="To" value={f.to} onChange={(to) => set({ to })} />
        {filtered && (
          <button type="button" className="button ghost clear-filters" onClick={() => onChange(NO_FILTERS)}>
            Clear
          </button>
        )}
      </div>
    </div>
  );
}

function DateField({
  id,
  label,
  value,
  onChange,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
}) {
  return (
    <div className="mini-field">
      <label htmlFor={id}>{label}</label>
      <input id={id} type="date" value={value} onChange={(e) => onChange(e.target.value)} />
    </div>
  );
}
