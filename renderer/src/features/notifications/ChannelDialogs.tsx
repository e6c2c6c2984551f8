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
import { ErrorNote, Fact, Field, Segmented } from '../../components/common';
import { ShownOnceDialog } from '../../components/ShownOnce';
import { useAction } from '../../lib/action';
import { bella } from '../../lib/bella';
import { useAppData } from '../../lib/data';
import { eventLabel } from '../audit/event-label';
import { KIND_LABEL, type ChannelRow } from './channel-state';

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

/** Adds a webhook, Slack or Discord channel: kind, URL, name, where from, which events, what it may reach. */
export function AddChannelDialog({
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
  const action = useAction();

  const urlError = tried && !url.trim() ? 'Give the address to send events to.' : null;
  const eventsError = tried && events.length === 0 ? 'Pick at least one event.' : null;

  async function submit() {
    setTried(true);
    if (!url.trim() || events.length === 0) return;
    await action.run('add', async () =>
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
      ),
    );
  }

  return (
    <Dialog
      wide
      title="Add a channel"
      description="Where the daemon tells you about leases, also while this window is closed."
      onClose={onClose}
      onSubmit={submit}
      footer={<DialogActions onCancel={onClose} label="Add channel" disabled={action.busy !== null} />}
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
      <ErrorNote error={action.error} />
    </Dialog>
  );
}

/** A webhook signing secret, shown once. */
export function ChannelSecretDialog({
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
    <ShownOnceDialog
      title={title}
      description={description}
      savedLabel="I have saved the secret"
      copied={copied}
      onClose={onClose}
      shown={{
        what: 'signing secret',
        value: secret,
        testId: 'channel-secret',
        copyLabel: 'Copy secret',
        explanation: SECRET_EXPLANATION,
        onCopy: () => setCopied(true),
      }}
    />
  );
}

/** Asks before rotating a webhook's signing secret; the new one is handed to `onRotated`. */
export function RotateSecretDialog({
  channel,
  onClose,
  onRotated,
}: {
  channel: ChannelRow;
  onClose: () => void;
  onRotated: (secret: string) => void;
}) {
  const action = useAction();
  return (
    <Dialog
      title={`Rotate the signing secret of ${channel.name}?`}
      description="bella makes a new secret and shows it once. The old one keeps signing for 24 hours, so the receiver can switch without missing an event."
      onClose={onClose}
      onSubmit={() =>
        void action.run('rotate', async () => onRotated((await bella().rotateChannelSecret({ id: channel.id })).secret))
      }
      footer={<DialogActions onCancel={onClose} label="Rotate secret" disabled={action.busy !== null} />}
    >
      <ErrorNote error={action.error} />
    </Dialog>
  );
}

/** Asks before removing a channel and dropping what it has not yet received. */
export function RemoveChannelDialog({
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
        <Fact term="Sends to" className="mono small">
          {channel.url}
        </Fact>
        <Fact term="Events" className="small">
          {channel.events.map(eventLabel).join(', ')}
        </Fact>
      </dl>
    </ConfirmDialog>
  );
}
