import { useState } from 'react';
import type { OperationOutput } from '../../../../daemon/api/routes';
import { plural } from '../../../../daemon/base/common/plural';
import { ActionNotes, Button, EmptyState, Loading } from '../../components/common';
import { SectionCard } from '../../components/Page';
import { Table } from '../../components/Table';
import { useAction } from '../../lib/action';
import { bella } from '../../lib/bella';
import { useNow } from '../../lib/now';
import { AddChannelDialog, ChannelSecretDialog, RemoveChannelDialog, RotateSecretDialog } from './ChannelDialogs';
import { ChannelTableRow } from './ChannelTableRow';
import type { ChannelRow } from './channel-state';

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
  const action = useAction();
  const list = channels.data?.channels ?? [];

  async function test(c: ChannelRow) {
    await action.run(c.id, async () => {
      const r = await bella().testChannel({ id: c.id });
      return r.delivered
        ? { tone: 'success', text: `Test event delivered to ${c.name}${r.status ? ` (HTTP ${r.status})` : ''}.` }
        : {
            tone: 'error',
            text: `The test event was not delivered to ${c.name}: ${r.error ?? (r.status ? `HTTP ${r.status}` : 'no answer')}.`,
          };
    });
    onChanged();
  }

  const setEnabled = (c: ChannelRow, enabled: boolean) =>
    action.run(c.id, async () => {
      if (enabled) await bella().enableChannel({ id: c.id });
      else await bella().disableChannel({ id: c.id });
      onChanged();
      return enabled
        ? `${c.name} receives events again; what it missed goes out now.`
        : `${c.name} is disabled; its events wait until you enable it.`;
    });

  const addButton = (className: string, label: string) => (
    <Button className={className} icon="plus" label={label} onClick={() => setOpen({ kind: 'add' })} />
  );

  return (
    <SectionCard
      id="channels-heading"
      title="Channels"
      intro="Lease events go to webhooks, Slack and Discord from a durable outbox: each at least once, retried on its own when the receiver fails (so not always in order). They carry names and reasons, never a secret value or a token."
      actions={addButton('button primary', 'Add channel')}
    >
      <ActionNotes action={action} loadError={channels.error} />
      {!channels.data ? (
        channels.loading ? (
          <Loading />
        ) : null
      ) : list.length === 0 ? (
        <EmptyState icon="send" title="No channels yet" action={addButton('button', 'Add a channel')}>
          Tell a webhook, a Slack channel or a Discord channel when leases are issued, renewed, revoked or about to
          expire, and when tokens are refused.
        </EmptyState>
      ) : (
        <Table
          className="channels-table"
          columns={['Channel', 'Sends to', 'Events', 'State']}
          actions
          inner
          footer={
            channels.data.pending > 0 && (
              <p className="muted table-note small">
                {plural(channels.data.pending, 'event')} waiting to be delivered.
              </p>
            )
          }
        >
          {list.map((c) => (
            <ChannelTableRow
              key={c.id}
              channel={c}
              now={now}
              busy={action.busy !== null}
              testing={action.busy === c.id}
              onTest={() => void test(c)}
              onSetEnabled={(enabled) => void setEnabled(c, enabled)}
              onRotate={() => setOpen({ kind: 'rotate', channel: c })}
              onRemove={() => setOpen({ kind: 'remove', channel: c })}
            />
          ))}
        </Table>
      )}

      {open?.kind === 'add' && (
        <AddChannelDialog
          onClose={() => setOpen(null)}
          onAdded={(r) => {
            onChanged();
            action.say(`Added ${r.channel.name}. Press Test to send it a test event.`);
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
        <ChannelSecretDialog
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
            action.say(
              `Removed ${open.channel.name}${r.pendingDropped ? `; ${plural(r.pendingDropped, 'undelivered event')} dropped with it` : ''}.`,
            );
          }}
        />
      )}
    </SectionCard>
  );
}
