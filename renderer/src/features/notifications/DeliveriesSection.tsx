import { useState, type ReactNode } from 'react';
import type { DeliveryAttempt, OutboxItem } from '../../../../daemon/api/channels';
import { ActionNotes, Button, EmptyState, FilterSelect, Loading, Spinner } from '../../components/common';
import { Icon } from '../../components/Icon';
import { SectionCard } from '../../components/Page';
import { Table } from '../../components/Table';
import { useAction } from '../../lib/action';
import { bella } from '../../lib/bella';
import { useLoad } from '../../lib/data';
import { formatDateTime } from '../../lib/format';
import { plural } from '../../../../daemon/base/common/plural';
import { eventLabel } from '../audit/event-label';
import type { ChannelRow } from './channel-state';

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
  const action = useAction();
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

  const retry = (item: OutboxItem) =>
    action.run(item.id, async () => {
      const r = await bella().retryDelivery({ id: item.id });
      onChanged();
      return `${eventLabel(item.event)} to ${nameOf(item.channelId)} goes out again now${r.requeued.length > 1 ? ` (with ${plural(r.requeued.length - 1, 'event')} queued before it)` : ''}.`;
    });

  const retryButton = (item: OutboxItem) => (
    <Button
      className="button small"
      icon={action.busy === item.id ? <Spinner label="Retrying" /> : 'refresh'}
      label="Retry"
      disabled={action.busy !== null}
      onClick={() => void retry(item)}
      aria-label={`Retry ${eventLabel(item.event)} to ${nameOf(item.channelId)}`}
    />
  );

  return (
    <SectionCard
      id="deliveries-heading"
      title="Delivery log"
      intro="Every attempt to reach a channel, newest first. An event is tried 5 times, then left for you to retry."
      actionsClassName="filters"
      actions={
        <>
          <FilterSelect
            id="deliveries-channel"
            label="Channel"
            value={channel}
            onChange={setChannel}
            any="All channels"
            options={channels.map((c) => ({ value: c.id, label: c.name }))}
          />
          <label className="check failed-only">
            <input type="checkbox" checked={failedOnly} onChange={(e) => setFailedOnly(e.target.checked)} />
            <span>Failed only</span>
          </label>
        </>
      }
    >
      <ActionNotes action={action} loadError={load.error} />
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
          <Loading />
        ) : null
      ) : deliveries.length === 0 ? (
        <EmptyState icon="send" title={failedOnly ? 'No failed deliveries' : 'Nothing delivered yet'}>
          {failedOnly
            ? 'Every attempt shown reached its channel.'
            : 'Attempts appear here as soon as a channel has something to receive.'}
        </EmptyState>
      ) : (
        <Table
          className="deliveries-table"
          columns={['Time', 'Channel', 'Event', 'Attempt', 'Outcome', 'Answer']}
          actions
          inner
        >
          {deliveries.map((d) => {
            const item = targets.byAttempt.get(d.id);
            return (
              <DeliveryRow key={d.id} attempt={d} channelName={nameOf(d.channelId)} retry={item && retryButton(item)} />
            );
          })}
        </Table>
      )}
    </SectionCard>
  );
}

/** One attempt in the delivery log; `retry` is the Retry button of the failed event it is the newest attempt of. */
function DeliveryRow({
  attempt: d,
  channelName,
  retry,
}: {
  attempt: DeliveryAttempt;
  channelName: string;
  retry: ReactNode;
}) {
  const o = OUTCOME[d.outcome];
  return (
    <tr
      data-delivery={d.id}
      data-outcome={d.outcome}
      className={d.outcome === 'delivered' ? undefined : d.outcome === 'retry' ? 'row-warn' : 'row-bad'}
    >
      <td className="nowrap muted">
        <time dateTime={new Date(d.at).toISOString()}>{formatDateTime(new Date(d.at).toISOString())}</time>
      </td>
      <td>{channelName}</td>
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
      <td className="row-actions">{retry}</td>
    </tr>
  );
}
