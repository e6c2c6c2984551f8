import { describe, expect, it } from 'vitest';
import {
  type DiscordMessage,
  type SlackMessage,
  discordMessage,
  escapeDiscord,
  escapeSlack,
  mergeEventData,
  renderBody,
  slackMessage,
  summarize,
  webhookPayload,
} from './payloads';
import { eventItems, leaseData, makeChannel } from '../../test/helpers/channels';
import type { ChannelEventData } from './types';

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const HOUR = 3_600_000;
const render = { now: NOW, timeZone: 'UTC', locale: 'en-GB' };
const slack = makeChannel('slack', 'https://hooks.slack.com/services/T/B/x');

const slackTexts = (m: SlackMessage): string[] => [
  m.text,
  ...m.blocks.flatMap((b) => (b.type === 'section' ? [b.text.text] : b.elements.map((e) => e.text))),
];
const discordTexts = (m: DiscordMessage): string[] => [
  m.content,
  ...m.embeds.flatMap((e) => [e.title, e.description, e.footer.text]),
];

describe('webhook payload', () => {
  it('is { type, timestamp, data } with the product event name and metadata only', () => {
    const [item] = eventItems('LeaseIssued', NOW, [makeChannel('webhook', 'http://x')], leaseData(1, NOW + HOUR));
    expect(webhookPayload(item!)).toEqual({
      type: 'LeaseIssued',
      timestamp: '2026-11-28T12:00:00.000Z',
      data: {
        project: 'my-api',
        environment: 'production',
        leaseIds: ['lease000000000000'],
        leases: [
          {
            id: 'lease000000000000',
            scope: ['DATABASE_URL', 'API_KEY'],
            reason: 'deploy',
            expiresAt: '2026-11-28T13:00:00.000Z',
          },
        ],
      },
    });
  });

  it('keeps only known fields and removes pasted tokens', () => {
    const token = `bax-abcdefghij012345-${'s'.repeat(43)}`;
    const rich = {
      ...leaseData(1, NOW + HOUR, `debugging with ${token}`),
      tokenHash: 'deadbeef',
      secrets: { DATABASE_URL: 'postgres://user:hunter2@db' },
    } as ChannelEventData;
    const [item] = eventItems('LeaseRevoked', NOW, [makeChannel('webhook', 'http://x')], rich);
    const body = renderBody('webhook', [item!], render);
    expect(body).not.toContain('hunter2');
    expect(body).not.toContain('deadbeef');
    expect(body).not.toContain('bax-');
    expect(JSON.parse(body).data.leases[0].reason).toBe('debugging with [token removed]');
  });

  it('carries exactly one event', () => {
    const items = eventItems('LeaseIssued', NOW, [makeChannel('webhook', 'a'), makeChannel('webhook', 'b')]);
    expect(() => renderBody('webhook', items, render)).toThrow(/exactly one/);
  });
});

describe('chat summaries', () => {
  it('say a group the way the desktop does', () => {
    const items = eventItems('LeaseExpiringSoon', NOW, [slack], leaseData(3, NOW + 2 * HOUR));
    const summary = summarize(items, render);
    expect(summary.title).toBe('3 leases in my-api/production expire in 2 h');
    expect(summary.lines.at(-1)).toBe('See them: bella leases list --project my-api --environment production');
  });

  it('merge items of one group into one message', () => {
    const items = Array.from({ length: 20 }, (_, i) =>
      eventItems('LeaseIssued', NOW + i, [slack], leaseData(1, NOW + HOUR)),
    )
      .flat()
      .map((item, i) => ({
        ...item,
        data: { ...item.data, leaseIds: [`l${i}`], leases: [{ ...item.data.leases![0]!, id: `l${i}` }] },
      }));
    expect(mergeEventData(items).leaseIds).toHaveLength(20);
    const summary = summarize(items, render);
    expect(summary.title).toBe('20 leases issued in my-api/production');
    expect(summary.lines).toContain('…and 15 more');
  });

  it('word every event type', () => {
    const one = (type: Parameters<typeof eventItems>[0], data?: ChannelEventData) =>
      summarize(eventItems(type, NOW, [slack], data), render).title;
    expect(one('LeaseIssued')).toBe('Lease issued in my-api/production');
    expect(one('LeaseRenewed')).toBe('Lease renewed in my-api/production');
    expect(one('LeaseRevoked')).toBe('Lease revoked in my-api/production');
    expect(one('LeaseExpired')).toBe('Lease for my-api/production expired');
    expect(one('LeaseExpiringSoon')).toBe('Lease for my-api/production expires in 2 h');
    expect(one('LeasesExpiredAll', leaseData(4, NOW))).toBe(
      'All leases of my-api/production expired (4 leases); its credentials were rotated',
    );
    expect(
      one('TokenRefusals', {
        project: 'my-api',
        environment: 'production',
        leaseIds: [],
        refusals: 12,
        windowSeconds: 300,
      }),
    ).toBe('12 token requests refused for my-api/production within 5 min');
    const failed = summarize(
      eventItems('CredentialRevokeFailed', NOW, [slack], {
        project: 'my-api',
        environment: 'production',
        leaseIds: ['l1'],
        database: 'pg-prod',
        user: 'bella_l1',
        error: 'connect ECONNREFUSED 127.0.0.1:5432',
      }),
      render,
    );
    expect(failed.title).toBe('A database login of my-api/production could not be dropped yet');
    expect(failed.lines[0]).toBe('Database pg-prod, login role bella_l1: connect ECONNREFUSED 127.0.0.1:5432');
    const request = {
      project: 'my-api',
      environment: 'production',
      leaseIds: [],
      reason: 'INC-4521',
      requestId: 'req_aaaaaaaaaaaaaaaa',
      requester: 'alice',
    };
    expect(one('AccessRequested', request)).toBe('alice asks for access to my-api/production');
    expect(one('BreakGlass', request)).toBe('Break-glass: alice took access to my-api/production without approval');
    // An access request's message never carries a way to approve it.
    const lines = summarize(eventItems('AccessRequested', NOW, [slack], request), render).lines.join('\n');
    expect(lines).toContain('INC-4521');
    expect(lines.toLowerCase()).not.toContain('approve');
  });
});

describe('escaping user text', () => {
  const hostile =
    'ship it <!channel> & <https://evil.example|click here> @everyone @here **bold** <@123456>\u0007\n# Heading';

  it('Slack: no raw <, > or & from user text; mass mentions neutralised', () => {
    const message = slackMessage(eventItems('LeaseRevoked', NOW, [slack], leaseData(1, NOW + HOUR, hostile)), render);
    for (const text of slackTexts(message)) {
      expect(text).not.toMatch(/<|>/);
      expect(text).not.toMatch(/&(?!amp;|lt;|gt;)/);
      expect(text).not.toMatch(/@(everyone|here|channel)/);
      expect(text).not.toContain('\u0007');
    }
    expect(message.text).toContain('&lt;!channel&gt; &amp; &lt;https://evil.example|click here&gt;');
    expect(escapeSlack('a<b>&c')).toBe('a&lt;b&gt;&amp;c');
  });

  it('Discord: markdown and mentions escaped, allowed_mentions empty', () => {
    const discord = makeChannel('discord', 'https://discord.com/api/webhooks/1/x');
    const message = discordMessage(
      eventItems('LeaseRevoked', NOW, [discord], leaseData(1, NOW + HOUR, hostile)),
      render,
    );
    expect(message.allowed_mentions).toEqual({ parse: [] });
    const all = discordTexts(message).join('\n');
    expect(all).not.toMatch(/@(everyone|here)/);
    expect(all).not.toMatch(/(^|[^\\])<@/);
    expect(all).not.toMatch(/(^|[^\\])\*\*/);
    expect(all).not.toMatch(/^#/m);
    expect(escapeDiscord('**x** <@1> @everyone')).toBe('\\*\\*x\\*\\* \\<@1\\> @\u200beveryone');
  });

  it('stay within Slack and Discord size limits however long the text', () => {
    const data = leaseData(50, NOW + HOUR, '&'.repeat(5000));
    const s = slackMessage(eventItems('LeaseIssued', NOW, [slack], data), render);
    for (const block of s.blocks)
      if (block.type === 'section') expect(block.text.text.length).toBeLessThanOrEqual(3000);
    const d = discordMessage(eventItems('LeaseIssued', NOW, [makeChannel('discord', 'x')], data), render);
    expect(d.content.length).toBeLessThanOrEqual(2000);
    expect(d.embeds[0]!.description.length).toBeLessThanOrEqual(4096);
    // Clipping never leaves half an entity behind.
    for (const text of slackTexts(s)) expect(text).not.toMatch(/&[a-z]*…/);
  });
});
