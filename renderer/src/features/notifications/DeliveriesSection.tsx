import { useState } from 'react';
import type { DeliveryAttempt, OutboxItem } from '../../../../daemon/api/channels';
import { EmptyState, ErrorNote, Spinner } from '../../components/common';
import { Icon } from '../../components/Icon';
import { bella } from '../../lib/bella';
import { useLoad } from '../../lib/data';
import { formatDateTime, plural } from '../../lib/format';
import { eventLabel } from '../audit/event-label';
import type { ChannelRow } from './ChannelsSection';

const SHOWN = 100;

const OUTCOME: Record<DeliveryAttempt['outcome'], { label: string; tone: string }> = {
  delivered: { label: 'Delivered', tone: 'good' },
  retry: { label: 'Will retry', tone: 'warn' },
  failed: { label: 'Failed', tone: 'bad' },
  disabled: { label: 'Channel disabled', tone: 'bad' },
  dropped: { label: 'Dropped', tone: 'bad' },
};

/**
 * Which attempt row carries the Retry button of each failed event: the newest attempt of it in
 * the log (the log is newest first). Failed events with no attempt in the shown log are returned apart.
 */
export function retryTargets(
  deliveries: readonly DeliveryAttempt[],
  failed: readonly OutboxItem[],
): { byAttempt: Map<string, OutboxItem>; unlisted: OutboxItem[] } {
  const byId = new Map(failed.map((i) => [i.id, i]));
  const byAttempt = new Map<string, OutboxItem>();
  const placed = new Set<string>();
  for (const d of deliveries) {
    const item = d.itemIds.map((id) => byId.get(id)).find((i) => i && !placed.has(i.id));
    if (!item) continue;
    for (const id of d.itemIds) placed.add(id);
    byAttempt.set(d.id, item);
  }
  return { byAttempt, unlisted: failed.filter((i) => !placed.has(i.id)) };
}

/** The delivery log, newest first, failures highlighted, each failed event retryable. */
export function DeliveriesSection({
  channels,
  rev,
  onChanged,
}: {
  channels: ChannelRow[];
  rev: number;
  onChanged: () => void;
}) {
  const [channel, setChannel] = useState('');
  const [failedOnly, setFailedOnly] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const known = channel === '' || channels.some((c) => c.id === channel);
  const load = useLoad(
    () =>
      bella().listDeliveries({
        ...(channel && known ? { channel } : {}),
        ...(failedOnly ? { failed: true } : {}),
        limit: SHOWN,
      }),
    [rev, channel && known ? channel : '', failedOnly],
  );
  const names = new Map(channels.map((c) => [c.id, c.name]));
  const nameOf = (id: string) => names.get(id) ?? id;
  const deliveries = load.data?.deliveries ?? [];
  const failed = load.data?.failed ?? [];
  const targets = retryTargets(deliveries, failed);

  async function retry(item: OutboxItem) {
    setBusy(item.id);
    setError(null);
    setNotice(null);
    try {
      const r = await bella().retryDelivery({ id: item.id });
      setNotice(
        `${eventLabel(item.event)} to ${nameOf(item.channelId)} goes out again now${r.requeued.length > 1 ? ` (with ${plural(r.requeued.length - 1, 'event')} queued before it)` : ''}.`,
      );
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  }

  const retryButton = (item: OutboxItem) => (
    <button
      type="button"
      className="button small"
      disabled={busy !== null}
      onClick={() => void retry(item)}
      aria-label={`Retry ${eventLabel(item.event)} to ${nameOf(item.channelId)}`}
    >
      {busy === item.id ? <Spinner label="Retrying" /> : <Icon name="refresh" size={14} />}
      <span>Retry</span>
    </button>
  );

  return (
    <section className="section-card" aria-labelledby="deliveries-heading">
      <div className="section-head">
        <div>
          <h2 id="deliveries-heading">Delivery log</h2>
          <p className="muted">
            Every attempt to reach a channel, newest first. An event is tried 5 times, then left for you to retry.
          </p>
        </div>
        <div className="section-actions filters">
          <div className="mini-field">
            <label htmlFor="deliveries-channel">Channel</label>
            <select id="deliveries-channel" value={channel} onChange={(e) => setChannel(e.target.value)}>
              <option value="">All channels</option>
              {channels.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </div>
          <label className="check failed-only">
            <input type="checkbox" checked={failedOnly} onChange={(e) => setFailedOnly(e.target.checked)} />
            <span>Failed only</span>
          </label>
        </div>
      </div>
      {notice && (
        <div className="note note-success" role="status">
          <Icon name="check" />
          <span>{notice}</span>
        </div>
      )}
      <ErrorNote error={error ?? load.error} />
      {failed.length > 0 && (
        <div className="note note-error" role="alert" data-testid="failed-summary">
          <Icon name="alert" />
          <span>
            {plural(failed.length, 'event')} used all {failed.length === 1 ? 'its' : 'their'} attempts and{' '}
            {failed.length === 1 ? 'was' : 'were'} not delivered. Retry once the receiver works again.
          </span>
        </div>
      )}
      {targets.unlisted.length > 0 && (
        <ul className="unlisted-failed">
          {targets.unlisted.map((item) => (
            <li key={item.id}>
              <span>
                {eventLabel(item.event)} to {nameOf(item.channelId)}
              </span>
              <span className="muted small">{item.lastError}</span>
              {retryButton(item)}
            </li>
          ))}
        </ul>
      )}
      {!load.data ? (
        load.loading ? (
          <div className="center-fill">
            <Spinner />
          </div>
        ) : null
      ) : deliveries.length === 0 ? (
        <EmptyState icon="send" title={failedOnly ? 'No failed deliveries' : 'Nothing delivered yet'}>
          {failedOnly
            ? 'Every attempt shown reached its channel.'
            : 'Attempts appear here as soon as a channel has something to receive.'}
        </EmptyState>
      ) : (
        <div className="table-wrap inner">
          <table className="table deliveries-table">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Channel</th>
                <th scope="col">Event</th>
                <th scope="col">Attempt</th>
                <th scope="col">Outcome</th>
                <th scope="col">Answer</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((d) => {
                const o = OUTCOME[d.outcome];
                const item = targets.byAttempt.get(d.id);
                return (
                  <tr
                    key={d.id}
                    data-delivery={d.id}
                    data-outcome={d.outcome}
                    className={d.outcome === 'delivered' ? undefined : d.outcome === 'retry' ? 'row-warn' : 'row-bad'}
                  >
                    <td className="nowrap muted">
                      <time dateTime={new Date(d.at).toISOString()}>
                        {formatDateTime(new Date(d.at).toISOString())}
                      </time>
                    </td>
                    <td>{nameOf(d.channelId)}</td>
                    <td className="nowrap">
                      {eventLabel(d.event)}
                      {d.itemIds.length > 1 && <span className="muted small"> ×{d.itemIds.length}</span>}
                    </td>
                    <td className="muted">{d.attempt}</td>
                    <td>
                      <span className={`badge ${o.tone}`}>{o.label}</span>
                    </td>
                    <td className="answer-cell small">
                      {d.status !== null && <span className="mono">HTTP {d.status}</span>}
                      {d.error && d.error !== `HTTP ${d.status}` && <span className="muted"> {d.error}</span>}
                      {d.status === null && !d.error && <span className="muted">—</span>}
                    </td>
                    <td className="row-actions">{item && retryButton(item)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
