import { CHANNEL_EVENTS, type ChannelKind } from '../../api/channels';
import { BellaError } from '../../api/errors';
import { UsageError } from '../framework/errors';
import { integerOption, listOption } from '../framework/options';
import type { CommandSpec } from '../framework/spec';
import { formatTime } from '../format';
import type { Action } from '../session';
import { renderTable } from '../table';
import { describeNotifications } from './daemon';
import { environmentOption, projectOption, wideOption } from './shared-options';

/** `bella notifications show`. */
export const show: Action = async (cli) => {
  const res = await cli.call('getNotificationSettings', {});
  cli.print(res, () => {
    const lines = [`desktop notifications: ${res.settings.desktop ? 'on' : 'off'}`];
    for (const [env, on] of Object.entries(res.settings.environments)) lines.push(`  ${env}: ${on ? 'on' : 'off'}`);
    lines.push(`delivery: ${describeNotifications(res.health)}`);
    return lines.join('\n');
  });
};

/** `bella notifications set --desktop on|off [-p P -e E]`. */
export const set: Action = async (cli, { opts }) => {
  const o = opts as { desktop: 'on' | 'off'; project?: string; environment?: string };
  if (Boolean(o.project) !== Boolean(o.environment)) {
    throw new UsageError('give both --project and --environment, or neither for the global setting');
  }
  const res = await cli.call('setNotificationSettings', {
    desktop: o.desktop === 'on',
    project: o.project,
    environment: o.environment,
  });
  const where = o.project ? `for ${o.project}/${o.environment}` : 'globally';
  cli.print(res, () => `desktop notifications ${o.desktop} ${where}`);
};

/** `bella notifications test`. */
export const test: Action = async (cli) => {
  const res = await cli.call('testNotification', {});
  if (cli.json) cli.out(JSON.stringify(res, null, 2));
  if (!res.sent) {
    throw new BellaError('unavailable', `the test notification was not sent: ${res.problem ?? 'unknown reason'}`);
  }
  if (!cli.json) cli.out('test notification sent');
};

/** `bella notifications channels add KIND --url U …`. */
export const addChannel: Action = async (cli, { args, opts }) => {
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
export const listChannels: Action = async (cli, { opts }) => {
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
export const removeChannel: Action = async (cli, { args }) => {
  const res = await cli.call('removeChannel', { id: args.ID as string });
  cli.print(
    res,
    () =>
      `removed channel ${res.removed}${res.pendingDropped ? ` (${res.pendingDropped} undelivered events dropped with it)` : ''}`,
  );
};

/** `bella notifications channels test ID`. */
export const testChannel: Action = async (cli, { args }) => {
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
export const enableChannel: Action = async (cli, { args }) => {
  const res = await cli.call('enableChannel', { id: args.ID as string });
  cli.print(res, () => `channel ${res.channel.id} delivers again; what it missed goes out now`);
};

/** `bella notifications channels disable ID`. */
export const disableChannel: Action = async (cli, { args }) => {
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

/** The `bella notifications` command, as the parser, help, completion and docs/cli.md read it. */
export const notificationsCommand: CommandSpec = {
  name: 'notifications',
  summary: 'desktop notifications before leases expire',
  subcommands: [
    {
      name: 'show',
      summary: 'show the notification settings and whether notifications are delivered',
      action: show,
    },
    {
      name: 'set',
      summary: 'turn desktop notifications on or off, globally or for one environment',
      details: 'Without -p/-e the global setting changes (.bella is not used here).',
      options: [
        { long: 'desktop', value: 'state', description: 'on or off', choices: ['on', 'off'], required: true },
        projectOption('only for this project (with --environment)'),
        environmentOption('only for this environment'),
      ],
      action: set,
    },
    {
      name: 'test',
      summary: 'send a test desktop notification',
      action: test,
    },
    {
      name: 'channels',
      summary: 'webhook, Slack and Discord channels: lease events delivered at least once',
      subcommands: [
        {
          name: 'add',
          summary: 'add a channel; a webhook gets a signing secret, shown once',
          details:
            'Webhooks follow the Standard Webhooks specification (webhook-id, webhook-timestamp, ' +
            'webhook-signature). Slack and Discord URLs are incoming-webhook URLs. URLs are stored encrypted.',
          args: [{ name: 'KIND', description: 'webhook, slack or discord' }],
          options: [
            { long: 'url', value: 'url', description: 'where to POST (https://…)', required: true },
            { long: 'name', value: 'name', description: 'a name to recognise it by' },
            projectOption('only events of this project (.bella is not used here)'),
            environmentOption('only events of this environment (with --project)'),
            {
              long: 'events',
              value: 'list',
              description: `only these events (default: all of ${CHANNEL_EVENTS.join(', ')})`,
              parse: listOption('--events'),
            },
            { long: 'secret', value: 'whsec_…', description: 'webhooks: sign with this secret instead of a new one' },
            {
              long: 'allow-private',
              description: 'allow loopback and private addresses (10/8, 192.168/16, 127/8, fc00::/7, …)',
            },
            { long: 'insecure-http', description: 'allow a plain http:// URL' },
            { long: 'any-host', description: "slack/discord: allow a host other than Slack's or Discord's" },
          ],
          examples: ['bella notifications channels add slack --url https://hooks.slack.com/services/T000/B000/XXXX'],
          action: addChannel,
        },
        {
          name: 'list',
          summary: 'list channels (URLs masked) and whether each delivers',
          options: [wideOption],
          action: listChannels,
        },
        {
          name: 'remove',
          summary: 'remove a channel and its undelivered events',
          args: [{ name: 'ID', description: 'the channel id (ch_…)', field: 'id' }],
          action: removeChannel,
        },
        {
          name: 'test',
          summary: 'send a test event to a channel now and say how it answered',
          args: [{ name: 'ID', description: 'the channel id (ch_…)', field: 'id' }],
          action: testChannel,
        },
        {
          name: 'rotate-secret',
          summary: 'a new webhook signing secret (shown once); the old one still signs for 24 h',
          args: [{ name: 'ID', description: 'the channel id (ch_…)', field: 'id' }],
          action: rotateSecret,
        },
        {
          name: 'enable',
          summary: 'deliver to a disabled channel again (it was answered 410 Gone, say)',
          args: [{ name: 'ID', description: 'the channel id (ch_…)', field: 'id' }],
          action: enableChannel,
        },
        {
          name: 'disable',
          summary: 'stop delivering to a channel; its events wait, none are lost, until it is enabled',
          args: [{ name: 'ID', description: 'the channel id (ch_…)', field: 'id' }],
          action: disableChannel,
        },
      ],
    },
    {
      name: 'deliveries',
      summary: 'the delivery log, newest first, and the events that used all their attempts',
      options: [
        { long: 'channel', value: 'id', description: 'only this channel' },
        { long: 'failed', description: 'only attempts that did not deliver' },
        {
          long: 'limit',
          value: 'n',
          description: 'at most this many (default 100)',
          parse: integerOption('--limit', 1, 1000),
        },
        wideOption,
      ],
      action: deliveries,
    },
    {
      name: 'retry',
      summary: 'deliver a failed event again now',
      args: [{ name: 'ID', description: 'the event id (msg_…) from `notifications deliveries`', field: 'id' }],
      action: retry,
    },
  ],
};
