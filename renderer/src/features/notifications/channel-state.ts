import type { ChannelKind } from '../../../../daemon/api/channels';
import type { OperationOutput } from '../../../../daemon/api/routes';

/** One channel as listed: URL masked, with its health. */
export type ChannelRow = OperationOutput<'listChannels'>['channels'][number];

export const KIND_LABEL: Record<ChannelKind, string> = { webhook: 'Webhook', slack: 'Slack', discord: 'Discord' };

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
