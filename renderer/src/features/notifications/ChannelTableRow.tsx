import { CHANNEL_EVENTS } from '../../../../daemon/api/channels';
import { plural } from '../../../../daemon/base/common/plural';
import { Button, Spinner } from '../../components/common';
import { Icon } from '../../components/Icon';
import { formatRelative } from '../../lib/format';
import { eventLabel } from '../audit/event-label';
import { channelState, KIND_LABEL, type ChannelRow } from './channel-state';

/** One channel in the channels table: what it is, where it sends, its events, its state, and its buttons. */
export function ChannelTableRow({
  channel: c,
  now,
  busy,
  testing,
  onTest,
  onSetEnabled,
  onRotate,
  onRemove,
}: {
  channel: ChannelRow;
  now: number;
  /** An action on some channel is under way: the buttons wait. */
  busy: boolean;
  /** This channel's test is under way. */
  testing: boolean;
  onTest: () => void;
  onSetEnabled: (enabled: boolean) => void;
  onRotate: () => void;
  onRemove: () => void;
}) {
  const st = channelState(c);
  return (
    <tr data-channel={c.id} data-state={st.label.toLowerCase()}>
      <td>
        <strong className="block">{c.name}</strong>
        <span className="muted small">
          {KIND_LABEL[c.kind]} · <span className="mono">{c.id}</span>
        </span>
      </td>
      <td className="url-cell">
        <span className="mono small block" title="The rest of the URL is a credential: it is not shown">
          {c.url}
        </span>
        <span className="muted small">
          {c.project ? `${c.project}${c.environment ? `/${c.environment}` : ''}` : 'every project'}
          {c.kind === 'webhook' && (c.signed ? ' · signed' : ' · unsigned')}
        </span>
      </td>
      <td className="events-cell">
        {c.events.length === CHANNEL_EVENTS.length ? (
          <span className="nowrap">All events</span>
        ) : (
          <span className="small">{c.events.map(eventLabel).join(', ')}</span>
        )}
      </td>
      <td className="state-cell">
        <span className={`badge ${st.tone}`}>{st.label}</span>
        {st.detail && <span className="small state-detail block">{st.detail}</span>}
        {c.health?.lastDeliveredAt && (
          <span className="muted small block">last delivered {formatRelative(c.health.lastDeliveredAt, now)}</span>
        )}
        {c.health && c.health.failedCount > 0 && (
          <span className="small bad-text block">{plural(c.health.failedCount, 'event')} not delivered</span>
        )}
        {c.health?.droppedCount ? (
          <span className="small bad-text block">
            {plural(c.health.droppedCount, 'event')} dropped (outbox full or too old)
          </span>
        ) : null}
      </td>
      <td className="row-actions">
        {c.disabled ? (
          <Button
            className="button small"
            icon="power"
            label="Enable"
            disabled={busy}
            onClick={() => onSetEnabled(true)}
            aria-label={`Enable ${c.name}`}
          />
        ) : (
          <Button
            className="button small"
            icon={testing ? <Spinner label="Sending" /> : 'send'}
            label="Test"
            disabled={busy}
            onClick={onTest}
            aria-label={`Test ${c.name}`}
          />
        )}
        {!c.disabled && (
          <button
            type="button"
            className="button small ghost"
            disabled={busy}
            onClick={() => onSetEnabled(false)}
            aria-label={`Disable ${c.name}`}
          >
            <span>Disable</span>
          </button>
        )}
        {c.kind === 'webhook' && c.signed && (
          <button
            type="button"
            className="icon-button"
            title="Rotate the signing secret"
            aria-label={`Rotate the signing secret of ${c.name}`}
            onClick={onRotate}
          >
            <Icon name="key" />
          </button>
        )}
        <button
          type="button"
          className="icon-button danger"
          title="Remove"
          aria-label={`Remove ${c.name}`}
          onClick={onRemove}
        >
          <Icon name="trash" />
        </button>
      </td>
    </tr>
  );
}
