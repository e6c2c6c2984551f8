import { describe, expect, it } from 'vitest';
import { fanOut } from './outbox-items';
import { bellaErrorOf, leaseData, makeChannel } from '../../test/helpers/channels';
import {
  DEFAULT_CHANNEL_EVENTS,
  type ChannelEvent,
  maskUrl,
  parseChannelEvents,
  redactTokens,
  toChannelView,
  validateChannelUrl,
} from './types';

const SLACK_URL = 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX';

describe('maskUrl', () => {
  it('shows scheme and host only', () => {
    expect(maskUrl(SLACK_URL)).toBe('https://hooks.slack.com/…');
    expect(maskUrl('http://user:pw@127.0.0.1:8080/hook?token=abc')).toBe('http://127.0.0.1:8080/…');
    expect(maskUrl('nonsense')).toBe('(invalid URL)');
  });
});

describe('validateChannelUrl', () => {
  it('accepts http and https, refuses other schemes and non-URLs without echoing them', () => {
    expect(validateChannelUrl(SLACK_URL).host).toBe('hooks.slack.com');
    expect(validateChannelUrl('http://127.0.0.1:9/x').protocol).toBe('http:');
    for (const bad of ['file:///etc/passwd', 'javascript:alert(1)', 'hooks.slack.com/services/T000/B000/XXXX']) {
      const error = bellaErrorOf(() => validateChannelUrl(bad));
      expect(error.code).toBe('invalid_argument');
      expect(error.message).not.toContain('XXXX');
      expect(error.message).not.toContain('passwd');
    }
  });
});

describe('parseChannelEvents', () => {
  it('defaults to every event, keeps the named ones once, names unknown ones', () => {
    expect(parseChannelEvents(undefined)).toEqual([...DEFAULT_CHANNEL_EVENTS]);
    expect(DEFAULT_CHANNEL_EVENTS).toHaveLength(10);
    expect(DEFAULT_CHANNEL_EVENTS).toContain('TokenRefusals');
    expect(DEFAULT_CHANNEL_EVENTS).toContain('AccessRequested');
    expect(DEFAULT_CHANNEL_EVENTS).toContain('BreakGlass');
    expect(parseChannelEvents(' LeaseExpired,LeaseExpiringSoon,LeaseExpired ')).toEqual([
      'LeaseExpired',
      'LeaseExpiringSoon',
    ]);
    expect(() => parseChannelEvents('LeaseExpired,LeaseExploded')).toThrow(/unknown event LeaseExploded/);
  });
});

describe('toChannelView', () => {
  it('masks the URL and drops the signing secrets', () => {
    const channel = makeChannel('webhook', SLACK_URL, { previousSecret: { secret: 'whsec_old', until: 1 } });
    const view = toChannelView(channel);
    expect(view.url).toBe('https://hooks.slack.com/…');
    expect(view.signed).toBe(true);
    expect(JSON.stringify(view)).not.toContain('whsec_');
    expect(JSON.stringify(view)).not.toContain('XXXX');
  });
});

describe('redactTokens', () => {
  it('removes anything shaped like a bax- token', () => {
    expect(redactTokens(`use bax-abcdefghij012345-${'x'.repeat(43)} now`)).toBe('use [token removed] now');
    expect(redactTokens('a bax- prefix alone is fine')).toBe('a bax- prefix alone is fine');
  });
});

describe('fanOut', () => {
  const event: ChannelEvent = { type: 'LeaseExpired', at: 1_000, data: leaseData(1, 1_000) };

  it('makes one pending item per interested channel, each with its own msg_ id', () => {
    const all = makeChannel('webhook', 'http://a');
    const project = makeChannel('slack', 'http://b', { project: 'my-api' });
    const environment = makeChannel('discord', 'http://c', { project: 'my-api', environment: 'production' });
    const otherEnv = makeChannel('slack', 'http://d', { project: 'my-api', environment: 'staging' });
    const otherProject = makeChannel('slack', 'http://e', { project: 'web' });
    const notSubscribed = makeChannel('webhook', 'http://f', { events: ['LeaseIssued'] });
    const disabled = makeChannel('webhook', 'http://g', { disabled: { at: 0, reason: 'gone' } });
    const items = fanOut(event, [all, project, environment, otherEnv, otherProject, notSubscribed, disabled]);
    expect(items.map((i) => i.channelId)).toEqual([all.id, project.id, environment.id]);
    expect(new Set(items.map((i) => i.id)).size).toBe(3);
    for (const item of items) {
      expect(item.id).toMatch(/^msg_[A-Za-z0-9_-]{22}$/);
      expect(item).toMatchObject({
        status: 'pending',
        attempts: 0,
        nextAttemptAt: 1_000,
        timestamp: 1_000,
        event: 'LeaseExpired',
      });
    }
  });

  it('sends break-glass to every channel of its environment, whatever events it chose', () => {
    const glass: ChannelEvent = {
      type: 'BreakGlass',
      at: 1_000,
      data: { ...leaseData(1, 1_000), requestId: 'req_aaaaaaaaaaaaaaaa', requester: 'alice' },
    };
    const notSubscribed = makeChannel('webhook', 'http://f', { events: ['LeaseIssued'] });
    const otherProject = makeChannel('slack', 'http://e', { project: 'web' });
    const disabled = makeChannel('webhook', 'http://g', { disabled: { at: 0, reason: 'gone' } });
    const items = fanOut(glass, [notSubscribed, otherProject, disabled]);
    expect(items.map((i) => i.channelId)).toEqual([notSubscribed.id]);
    expect(items[0]!.data).toMatchObject({ requestId: 'req_aaaaaaaaaaaaaaaa', requester: 'alice' });
    const requested: ChannelEvent = { ...glass, type: 'AccessRequested' };
    expect(fanOut(requested, [notSubscribed])).toEqual([]);
  });
});
