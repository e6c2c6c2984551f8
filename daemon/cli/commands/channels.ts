import type { ChannelKind } from '../../api/channels';
import { BellaError } from '../../api/errors';
import { formatTime } from '../format';
import { renderTable } from '../table';
import type { Action } from '../session';

/** `bella notifications channels add KIND --url U …`. */
export const add: Action = async (cli, { args, opts }) => {
  const o = opts as {
    url: string;
    name?: string;
    project?: string;
    environment?: string;
    events?: string[];
    secret?: string;
    allowPrivate?: boolean;
    insecureHttp?: boolean;
    anyHost?: boolean;
  };
  const res = await cli.call('addChannel', {
    kind: args.KIND as ChannelKind,
    url: o.url,
    name: o.name,
    project: o.project,
    environment: o.environment,
    events: o.events as never,
    secret: o.secret,
    allowPrivate: o.allowPrivate,
    insecureHttp: o.insecureHttp,
    anyHost: o.anyHost,
  });
  cli.print(res, () => {
    const lines = [
      `added ${res.channel.kind} channel ${cli.safe(res.channel.name)} (${res.channel.id}) → ${res.channel.url}`,
    ];
    if (res.secret) {
      lines.push(
        `signing secret (shown once; receivers verify webhook-signature with it): ${res.secret}`,
        `test it: bella notifications channels test ${res.channel.id}`,
      );
    }
    return lines.join('\n');
  });
};

/** `bella notifications channels list`. */
export const list: Action = async (cli, { opts }) => {
  const res = await cli.call('listChannels', {});
  cli.print(res, () => {
    if (res.channels.length === 0) {
      return 'no channels yet (desktop notifications: `bella notifications show`); add one with `bella notifications channels add webhook --url URL`';
    }
    const state = (c: (typeof res.channels)[number]) => {
      const now = c.disabled
        ? `disabled: ${c.disabled.reason}`
        : c.health?.failing
          ? `failing: ${c.health.lastError ?? 'no answer'}`
          : 'ok';
      const dropped = c.health?.droppedCount ?? 0;
      return dropped ? `${now} (${dropped} dropped: see notifications deliveries)` : now;
    };
    const table = renderTable(
      [
        { header: 'ID', keep: true },
        { header: 'KIND', keep: true },
        { header: 'NAME' },
        { header: 'URL' },
        { header: 'WHERE', drop: 2 },
        { header: 'EVENTS', drop: 1 },
        { header: 'STATE', keep: true },
      ],
      res.channels.map((c) => [
        c.id,
        c.kind,
        c.name,
        c.url,
        c.project ? `${c.project}${c.environment ? `/${c.environment}` : ''}` : 'all',
        c.events.join(','),
        state(c),
      ]),
      { width: (opts as { wide?: boolean }).wide ? Infinity : cli.width, colour: cli.colour },
    );
    return res.pending ? `${table}\n(${res.pending} events waiting to be delivered)` : table;
  });
};

/** `bella notifications channels remove ID`. */
export const remove: Action = async (cli, { args }) => {
  const res = await cli.call('removeChannel', { id: args.ID as string });
  cli.print(
    res,
    () =>
      `removed channel ${res.removed}${res.pendingDropped ? ` (${res.pendingDropped} undelivered events dropped with it)` : ''}`,
  );
};

/** `bella notifications channels test ID`. */
export const test: Action = async (cli, { args }) => {
  const res = await cli.call('testChannel', { id: args.ID as string });
  if (cli.json) cli.out(JSON.stringify(res, null, 2));
  if (!res.delivered) {
    throw new BellaError('unavailable', `the test event was not delivered: ${res.error ?? `HTTP ${res.status}`}`);
  }
  if (!cli.json) cli.out(`delivered (HTTP ${res.status})`);
};

/** `bella notifications channels rotate-secret ID`. */
export const rotateSecret: Action = async (cli, { args }) => {
  const res = await cli.call('rotateChannelSecret', { id: args.ID as string });
  cli.print(res, () => `new signing secret (shown once; the old one still signs for 24 h): ${res.secret}`);
};

/** `bella notifications channels enable ID`. */
export const enable: Action = async (cli, { args }) => {
  const res = await cli.call('enableChannel', { id: args.ID as string });
  cli.print(res, () => `channel ${res.channel.id} delivers again; what it missed goes out now`);
};

/** `bella notifications channels disable ID`. */
export const disable: Action = async (cli, { args }) => {
  const res = await cli.call('disableChannel', { id: args.ID as string });
  cli.print(
    res,
    () =>
      `channel ${res.channel.id} is disabled: its events wait until \`bella notifications channels enable ${res.channel.id}\``,
  );
};

/** `bella notifications deliveries [--channel ID] [--failed]`. */
export const deliveries: Action = async (cli, { opts }) => {
  const o = opts as { channel?: string; failed?: boolean; limit?: number; wide?: boolean };
  const res = await cli.call('listDeliveries', { channel: o.channel, failed: o.failed, limit: o.limit });
  cli.print(res, () => {
    const lines: string[] = [];
    if (res.deliveries.length === 0) lines.push('no deliveries yet');
    else {
      lines.push(
        renderTable(
          [
            { header: 'TIME', keep: true },
            { header: 'CHANNEL', keep: true },
            { header: 'EVENT', keep: true },
            { header: 'ATTEMPT', drop: 1 },
            { header: 'OUTCOME', keep: true, colour: (c) => (c === 'delivered' ? undefined : '31') },
            { header: 'STATUS', drop: 2 },
            { header: 'ERROR' },
          ],
          res.deliveries.map((d) => [
            formatTime(new Date(d.at).toISOString()),
            d.channelId,
            d.event,
            String(d.attempt),
            d.outcome,
            d.status === null ? '-' : String(d.status),
            d.error ?? '',
          ]),
          { width: o.wide ? Infinity : cli.width, colour: cli.colour },
        ),
      );
    }
    if (res.failed.length) {
      lines.push(`${res.failed.length} events used all their attempts: retry with \`bella notifications retry ID\`:`);
      for (const item of res.failed)
        lines.push(`  ${item.id}  ${item.event}  ${item.channelId}  ${cli.safe(item.lastError ?? '')}`);
    }
    return lines.join('\n');
  });
};

/** `bella notifications retry ID`. */
export const retry: Action = async (cli, { args }) => {
  const res = await cli.call('retryDelivery', { id: args.ID as string });
  cli.print(res, () => `queued again: ${res.requeued.join(', ')}`);
};
