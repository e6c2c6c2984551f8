import { useState } from 'react';
import {
  CHANNEL_EVENTS,
  CHANNEL_KINDS,
  type ChannelEventType,
  type ChannelKind,
} from '../../../../daemon/api/channels';
import type { OperationOutput } from '../../../../daemon/api/routes';
import { Dialog, DialogActions } from '../../components/Dialog';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { EmptyState, ErrorNote, Field, Segmented, Spinner } from '../../components/common';
import { ShownOnce } from '../../components/ShownOnce';
import { Icon } from '../../components/Icon';
import { bella } from '../../lib/bella';
import { useAppData } from '../../lib/data';
import { formatRelative, plural } from '../../lib/format';
import { useNow } from '../../lib/now';
import { eventLabel } from '../audit/event-label';

/** One channel as listed: URL masked, with its health. */
export type ChannelRow = OperationOutput<'listChannels'>['channels'][number];

const KIND_LABEL: Record<ChannelKind, string> = { webhook: 'Webhook', slack: 'Slack', discord: 'Discord' };
const KIND_HINT: Record<ChannelKind, string> = {
  webhook: 'Your endpoint. Every request is signed (Standard Webhooks) with a secret shown once.',
  slack: 'A Slack incoming-webhook URL, https://hooks.slack.com/services/…',
  discord: 'A Discord webhook URL, https://discord.com/api/webhooks/…',
};
/** What a channel may reach beyond the default (a public https:// address; Slack's or Discord's host). */
const ALLOW_OPTIONS = [
  { key: 'allowPrivate', label: 'A loopback or private address (--allow-private)' },
  { key: 'insecureHttp', label: 'Plain http:// (--insecure-http)' },
  { key: 'anyHost', label: 'Another host than Slack’s or Discord’s (--any-host)' },
] as const;
const SECRET_EXPLANATION =
  'Receivers check the webhook-signature header with it. bella keeps it sealed and never shows it again; if it is lost, rotate it.';

/** A channel's state in words: disabled, failing, delivering, or nothing sent yet. */
export function channelState(c: ChannelRow): {
  label: string;
  tone: 'good' | 'bad' | 'warn' | 'muted';
  detail: string | null;
} {
  if (c.disabled) return { label: 'Disabled', tone: 'bad', detail: c.disabled.reason };
  if (c.health?.failing) {
    return {
      label: 'Failing',
      tone: 'warn',
      detail: c.health.lastError ?? (c.health.lastStatus ? `HTTP ${c.health.lastStatus}` : 'no answer'),
    };
  }
  if (c.health?.lastDeliveredAt) return { label: 'Delivering', tone: 'good', detail: null };
  return { label: 'Nothing sent yet', tone: 'muted', detail: null };
}

type Open =
  | { kind: 'add' }
  | { kind: 'secret'; title: string; description: string; secret: string }
  | { kind: 'rotate'; channel: ChannelRow }
  | { kind: 'remove'; channel: ChannelRow }
  | null;

/** Channels: list with health, add, test, enable, rotate the signing secret, remove. */
export function ChannelsSection({
  channels,
  onChanged,
}: {
  channels: { data: OperationOutput<'listChannels'> | undefined; error: unknown; loading: boolean };
  onChanged: () => void;
}) {
  const now = useNow();
  const [open, setOpen] = useState<Open>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<{ tone: 'success' | 'error'; text: string } | null>(null);
  const list = channels.data?.channels ?? [];

  async function test(c: ChannelRow) {
    setBusy(c.id);
    setError(null);
    setNotice(null);
    try {
      const r = await bella().testChannel({ id: c.id });
      setNotice(
        r.delivered
          ? { tone: 'success', text: `Test event delivered to ${c.name}${r.status ? ` (HTTP ${r.status})` : ''}.` }
          : {
              tone: 'error',
              text: `The test event was not delivered to ${c.name}: ${r.error ?? (r.status ? `HTTP ${r.status}` : 'no answer')}.`,
            },
      );
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
      onChanged();
    }
  }

  async function setEnabled(c: ChannelRow, enabled: boolean) {
    setBusy(c.id);
    setError(null);
    setNotice(null);
    try {
      if (enabled) {
        await bella().enableChannel({ id: c.id });
        setNotice({ tone: 'success', text: `${c.name} receives events again; what it missed goes out now.` });
      } else {
        await bella().disableChannel({ id: c.id });
        setNotice({ tone: 'success', text: `${c.name} is disabled; its events wait until you enable it.` });
      }
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  }

  return (
    <section className="section-card" aria-labelledby="channels-heading">
      <div className="section-head">
        <div>
          <h2 id="channels-heading">Channels</h2>
          <p className="muted">
            Lease events go to webhooks, Slack and Discord from a durable outbox: each at least once, retried on its own
            when the receiver fails (so not always in order). They carry names and reasons, never a secret value or a
            token.
          </p>
        </div>
        <div className="section-actions">
          <button type="button" className="button primary" onClick={() => setOpen({ kind: 'add' })}>
            <Icon name="plus" />
            <span>Add channel</span>
          </button>
        </div>
      </div>
      {notice && (
        <div className={`note note-${notice.tone}`} role={notice.tone === 'error' ? 'alert' : 'status'}>
          <Icon name={notice.tone === 'success' ? 'check' : 'alert'} />
          <span>{notice.text}</span>
        </div>
      )}
      <ErrorNote error={error ?? channels.error} />
      {!channels.data ? (
        channels.loading ? (
          <div className="center-fill">
            <Spinner />
          </div>
        ) : null
      ) : list.length === 0 ? (
        <EmptyState
          icon="send"
          title="No channels yet"
          action={
            <button type="button" className="button" onClick={() => setOpen({ kind: 'add' })}>
              <Icon name="plus" />
              <span>Add a channel</span>
            </button>
          }
        >
          Tell a webhook, a Slack channel or a Discord channel when leases are issued, renewed, revoked or about to
          expire, and when tokens are refused.
        </EmptyState>
      ) : (
        <div className="table-wrap inner">
          <table className="table channels-table">
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col">Sends to</th>
                <th scope="col">Events</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((c) => {
                const st = channelState(c);
                return (
                  <tr key={c.id} data-channel={c.id} data-state={st.label.toLowerCase()}>
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
                        <span className="muted small block">
                          last delivered {formatRelative(c.health.lastDeliveredAt, now)}
                        </span>
                      )}
                      {c.health && c.health.failedCount > 0 && (
                        <span className="small bad-text block">
                          {plural(c.health.failedCount, 'event')} not delivered
                        </span>
                      )}
                      {c.health?.droppedCount ? (
                        <span className="small bad-text block">
                          {plural(c.health.droppedCount, 'event')} dropped (outbox full or too old)
                        </span>
                      ) : null}
                    </td>
                    <td className="row-actions">
                      {c.disabled ? (
                        <button
                          type="button"
                          className="button small"
                          disabled={busy !== null}
                          onClick={() => void setEnabled(c, true)}
                          aria-label={`Enable ${c.name}`}
                        >
                          <Icon name="power" size={14} />
                          <span>Enable</span>
                        </button>
                      ) : (
                        <button
                          type="button"
                          className="button small"
                          disabled={busy !== null}
                          onClick={() => void test(c)}
                          aria-label={`Test ${c.name}`}
                        >
                          {busy === c.id ? <Spinner label="Sending" /> : <Icon name="send" size={14} />}
                          <span>Test</span>
                        </button>
                      )}
                      {!c.disabled && (
                        <button
                          type="button"
                          className="button small ghost"
                          disabled={busy !== null}
                          onClick={() => void setEnabled(c, false)}
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
                          onClick={() => setOpen({ kind: 'rotate', channel: c })}
                        >
                          <Icon name="key" />
                        </button>
                      )}
                      <button
                        type="button"
                        className="icon-button danger"
                        title="Remove"
                        aria-label={`Remove ${c.name}`}
                        onClick={() => setOpen({ kind: 'remove', channel: c })}
                      >
                        <Icon name="trash" />
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {channels.data.pending > 0 && (
            <p className="muted table-note small">{plural(channels.data.pending, 'event')} waiting to be delivered.</p>
          )}
        </div>
      )}

      {open?.kind === 'add' && (
        <AddChannelDialog
          onClose={() => setOpen(null)}
          onAdded={(r) => {
            onChanged();
            setNotice({ tone: 'success', text: `Added ${r.channel.name}. Press Test to send it a test event.` });
            setOpen(
              r.secret
                ? {
                    kind: 'secret',
                    title: 'Channel added',
                    description: `${r.channel.name} · ${r.channel.url}`,
                    secret: r.secret,
                  }
                : null,
            );
          }}
        />
      )}
      {open?.kind === 'secret' && (
        <SecretDialog
          title={open.title}
          description={open.description}
          secret={open.secret}
          onClose={() => setOpen(null)}
        />
      )}
      {open?.kind === 'rotate' && (
        <RotateSecretDialog
          channel={open.channel}
          onClose={() => setOpen(null)}
          onRotated={(secret) => {
            onChanged();
            setOpen({
              kind: 'secret',
              title: 'New signing secret',
              description: `${open.channel.name}: the old secret keeps signing for 24 h, so the receiver can switch.`,
              secret,
            });
          }}
        />
      )}
      {open?.kind === 'remove' && (
        <RemoveChannelDialog
          channel={open.channel}
          onClose={() => setOpen(null)}
          onRemoved={(r) => {
            setOpen(null);
            onChanged();
            setNotice({
              tone: 'success',
              text: `Removed ${open.channel.name}${r.pendingDropped ? `; ${plural(r.pendingDropped, 'undelivered event')} dropped with it` : ''}.`,
            });
          }}
        />
      )}
    </section>
  );
}

function AddChannelDialog({
  onClose,
  onAdded,
}: {
  onClose: () => void;
  onAdded: (r: OperationOutput<'addChannel'>) => void;
}) {
  const { projects, environments } = useAppData();
  const [kind, setKind] = useState<ChannelKind>('webhook');
  const [url, setUrl] = useState('');
  const [name, setName] = useState('');
  const [project, setProject] = useState('');
  const [environment, setEnvironment] = useState('');
  const [events, setEvents] = useState<ChannelEventType[]>([...CHANNEL_EVENTS]);
  const [allow, setAllow] = useState({ allowPrivate: false, insecureHttp: false, anyHost: false });
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const urlError = tried && !url.trim() ? 'Give the address to send events to.' : null;
  const eventsError = tried && events.length === 0 ? 'Pick at least one event.' : null;

  async function submit() {
    setTried(true);
    if (!url.trim() || events.length === 0) return;
    setBusy(true);
    setError(null);
    try {
      onAdded(
        await bella().addChannel({
          kind,
          url: url.trim(),
          ...(name.trim() ? { name: name.trim() } : {}),
          ...(project ? { project } : {}),
          ...(project && environment ? { environment } : {}),
          ...(events.length === CHANNEL_EVENTS.length ? {} : { events }),
          ...allow,
        }),
      );
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <Dialog
      wide
      title="Add a channel"
      description="Where the daemon tells you about leases, also while this window is closed."
      onClose={onClose}
      onSubmit={submit}
      footer={<DialogActions onCancel={onClose} label="Add channel" disabled={busy} />}
    >
      <fieldset className="field">
        <legend>Kind</legend>
        <Segmented<ChannelKind>
          label="Kind"
          value={kind}
          onChange={setKind}
          options={CHANNEL_KINDS.map((k) => ({ value: k, label: KIND_LABEL[k] }))}
        />
      </fieldset>
      <Field label="URL" htmlFor="channel-url" error={urlError} hint={KIND_HINT[kind]}>
        <input
          id="channel-url"
          className="mono"
          autoComplete="off"
          spellCheck={false}
          placeholder={kind === 'webhook' ? 'https://example.com/bella-hook' : 'https://…'}
          value={url}
          aria-invalid={!!urlError}
          onChange={(e) => setUrl(e.target.value)}
        />
      </Field>
      <Field label="Name (optional)" htmlFor="channel-name" hint="To recognise it by; the host of the URL otherwise.">
        <input id="channel-name" value={name} placeholder="Ops alerts" onChange={(e) => setName(e.target.value)} />
      </Field>
      <div className="policy-grid">
        <Field label="Project" htmlFor="channel-project">
          <select
            id="channel-project"
            value={project}
            onChange={(e) => {
              setProject(e.target.value);
              setEnvironment('');
            }}
          >
            <option value="">Every project</option>
            {projects.map((p) => (
              <option key={p.slug} value={p.slug}>
                {p.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Environment" htmlFor="channel-environment">
          <select
            id="channel-environment"
            value={environment}
            disabled={!project}
            onChange={(e) => setEnvironment(e.target.value)}
          >
            <option value="">Every environment</option>
            {(environments[project] ?? []).map((env) => (
              <option key={env.slug} value={env.slug}>
                {env.name}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <fieldset className="field">
        <legend>Events</legend>
        <div className="check-grid" role="group" aria-label="Events">
          {CHANNEL_EVENTS.map((ev) => (
            <label key={ev} className="check-item">
              <input
                type="checkbox"
                checked={events.includes(ev)}
                onChange={(e) =>
                  setEvents(
                    e.target.checked
                      ? CHANNEL_EVENTS.filter((x) => x === ev || events.includes(x))
                      : events.filter((x) => x !== ev),
                  )
                }
              />
              <span>{eventLabel(ev)}</span>
            </label>
          ))}
        </div>
        {eventsError && <p className="field-error">{eventsError}</p>}
      </fieldset>
      <fieldset className="field">
        <legend>Allow</legend>
        <div className="check-grid" role="group" aria-label="Allow">
          {ALLOW_OPTIONS.filter((o) => o.key !== 'anyHost' || kind !== 'webhook').map((o) => (
            <label key={o.key} className="check-item">
              <input
                type="checkbox"
                checked={allow[o.key]}
                onChange={(e) => setAllow({ ...allow, [o.key]: e.target.checked })}
              />
              <span>{o.label}</span>
            </label>
          ))}
        </div>
      </fieldset>
      <ErrorNote error={error} />
    </Dialog>
  );
}

/** A webhook signing secret, shown once. */
function SecretDialog({
  title,
  description,
  secret,
  onClose,
}: {
  title: string;
  description: string;
  secret: string;
  onClose: () => void;
}) {
  const [copied, setCopied] = useState(false);
  return (
    <Dialog
      wide
      title={title}
      description={description}
      onClose={onClose}
      footer={
        <button type="button" className="button primary" onClick={onClose}>
          {copied ? 'Done' : 'I have saved the secret'}
        </button>
      }
    >
      <ShownOnce
        what="signing secret"
        value={secret}
        testId="channel-secret"
        copyLabel="Copy secret"
        explanation={SECRET_EXPLANATION}
        onCopy={() => setCopied(true)}
      />
    </Dialog>
  );
}

function RotateSecretDialog({
  channel,
  onClose,
  onRotated,
}: {
  channel: ChannelRow;
  onClose: () => void;
  onRotated: (secret: string) => void;
}) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <Dialog
      title={`Rotate the signing secret of ${channel.name}?`}
      description="bella makes a new secret and shows it once. The old one keeps signing for 24 hours, so the receiver can switch without missing an event."
      onClose={onClose}
      onSubmit={async () => {
        setBusy(true);
        try {
          onRotated((await bella().rotateChannelSecret({ id: channel.id })).secret);
        } catch (err) {
          setError(err);
          setBusy(false);
        }
      }}
      footer={<DialogActions onCancel={onClose} label="Rotate secret" disabled={busy} />}
    >
      <ErrorNote error={error} />
    </Dialog>
  );
}

function RemoveChannelDialog({
  channel,
  onClose,
  onRemoved,
}: {
  channel: ChannelRow;
  onClose: () => void;
  onRemoved: (r: OperationOutput<'removeChannel'>) => void;
}) {
  return (
    <ConfirmDialog
      title={`Remove ${channel.name}?`}
      description="It stops receiving events at once, and the events not yet delivered to it are dropped. This cannot be undone."
      confirmLabel="Remove channel"
      onClose={onClose}
      action={async () => onRemoved(await bella().removeChannel({ id: channel.id }))}
    >
      <dl className="facts">
        <div>
          <dt>Sends to</dt>
          <dd className="mono small">{channel.url}</dd>
        </div>
        <div>
          <dt>Events</dt>
          <dd className="small">{channel.events.map(eventLabel).join(', ')}</dd>
        </div>
      </dl>
    </ConfirmDialog>
  );
}
