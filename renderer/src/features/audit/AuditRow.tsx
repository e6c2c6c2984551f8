import type { AuditEntry } from '../../../../daemon/api/types';
import { formatDateTime } from '../../lib/format';
import { eventLabel } from './event-label';

/** One entry of the trail; its lease id filters the trail to that lease. `whole` adds the project/environment column. */
export function AuditRow({
  entry: e,
  onLease,
  whole,
}: {
  entry: AuditEntry;
  onLease: (id: string) => void;
  whole: boolean;
}) {
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
