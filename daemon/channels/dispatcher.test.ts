import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BellaError } from '../api/errors';
import type { ChannelHealth } from './channel-health';
import { Dispatcher, type DispatcherOptions } from './dispatcher';
import { BASE_RETRY_DELAY_MS, MAX_ATTEMPTS, retryDelay } from './retry-schedule';
import { MemoryOutboxStore } from '../../test/helpers/memory-outbox';
import {
  FakeClock,
  type Receiver,
  type Responder,
  answer,
  answerInTurn,
  eventItems,
  hang,
  leaseData,
  makeChannel,
  startReceiver,
  waitFor,
} from '../../test/helpers/channels';
import { CHANNEL_EVENTS, type Channel, type ChannelEventData, type OutboxItem } from './types';

const MINUTE = 60_000;
const receivers: Receiver[] = [];
const dispatchers: Dispatcher[] = [];
afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  vi.restoreAllMocks();
});

async function receiver(respond?: Responder): Promise<Receiver> {
  const r = await startReceiver(respond);
  receivers.push(r);
  return r;
}

function setup(channels: Channel[], options: Partial<DispatcherOptions> = {}, clock = new FakeClock(Date.now())) {
  const store = new MemoryOutboxStore(channels);
  const healthChanges: ChannelHealth[] = [];
  const errors: unknown[] = [];
  const dispatcher = new Dispatcher({
    store,
    clock,
    random: () => 0.5,
    timeZone: 'UTC',
    onHealthChange: (h) => healthChanges.push(h),
    onError: (e) => errors.push(e),
    ...options,
  });
  dispatchers.push(dispatcher);
  dispatcher.start();
  const commit = (items: OutboxItem[]): OutboxItem[] => {
    store.add(items);
    dispatcher.kick();
    return items;
  };
  // Waits until nothing is in flight and the pass a finished request queued has run.
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 1000; i++) {
      if (dispatcher.stats().inFlight === 0) {
        await new Promise((resolve) => setImmediate(resolve));
        if (dispatcher.stats().inFlight === 0) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('deliveries never settled');
  };
  // Runs the fake clock from timer to timer until `count` attempts are recorded.
  const drive = async (count: number): Promise<void> => {
    for (let i = 0; i < 100 && store.attempts.length < count; i++) {
      await settle();
      if (store.attempts.length < count) clock.runNext();
    }
    await settle();
  };
  return { clock, store, dispatcher, healthChanges, errors, commit, settle, drive };
}

const item = (store: MemoryOutboxStore, id: string): OutboxItem => store.get(id) as OutboxItem;
const header = (r: Receiver, n: number, name: string): string => String(r.received[n]?.headers[name]);

describe('retryDelay', () => {
  it('doubles from 2 min: 5 attempts spread over 30 min without jitter', () => {
    const delays = [1, 2, 3, 4].map((n) => retryDelay(n, () => 0.5));
    expect(delays).toEqual([2, 4, 8, 16].map((m) => m * MINUTE));
    expect(delays.reduce((a, b) => a! + b!, 0)).toBe(30 * MINUTE);
    expect(retryDelay(MAX_ATTEMPTS, () => 0.5)).toBeNull();
    expect(retryDelay(0)).toBeNull();
    expect(MAX_ATTEMPTS).toBe(5);
  });

  it('keeps jitter within ±20 %, so the whole spread stays within 24–36 min', () => {
    let seed = 42;
    const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const totals: number[] = [];
    for (let run = 0; run < 200; run++) {
      let total = 0;
      for (let n = 1; n < MAX_ATTEMPTS; n++) {
        const delay = retryDelay(n, random) as number;
        const base = BASE_RETRY_DELAY_MS * 2 ** (n - 1);
        expect(delay).toBeGreaterThanOrEqual(base * 0.8);
        expect(delay).toBeLessThanOrEqual(base * 1.2);
        total += delay;
      }
      totals.push(total);
    }
    expect(Math.min(...totals)).toBeGreaterThanOrEqual(24 * MINUTE);
    expect(Math.max(...totals)).toBeLessThanOrEqual(36 * MINUTE);
    // Jitter really varies the schedule.
    expect(new Set(totals).size).toBeGreaterThan(100);
    expect([retryDelay(1, () => 0), retryDelay(1, () => 1)]).toEqual([1.6 * MINUTE, 2.4 * MINUTE]);
  });
});

describe('Dispatcher', () => {
  it("delivers a webhook on kick, before any timer, signed so the library's own verify accepts it", async () => {
    const r = await receiver(answer(200));
    const channel = makeChannel('webhook', r.url);
    const { store, commit, clock } = setup([channel]);
    const start = clock.now();
    const [sent] = commit(eventItems('LeaseIssued', clock.now(), [channel]));
    await waitFor(() => item(store, sent!.id).status === 'delivered', 'the delivery');
    expect(clock.now()).toBe(start);
    expect(r.received).toHaveLength(1);
    const payload = new Webhook(channel.secret!).verify(
      r.received[0]!.body,
      r.received[0]!.headers as Record<string, string>,
    );
    expect(payload).toMatchObject({ type: 'LeaseIssued', data: { project: 'my-api', environment: 'production' } });
    expect(header(r, 0, 'webhook-id')).toBe(sent!.id);
    expect(store.attempts.map((a) => [a.outcome, a.status, a.attempt])).toEqual([['delivered', 200, 1]]);
  });

  it('signs with the previous secret too while a rotation is in its grace period, not after', async () => {
    const r = await receiver(answer(200));
    const old = makeChannel('webhook', r.url);
    const { store, commit, clock } = setup([]);
    const rotated = {
      ...makeChannel('webhook', r.url),
      previousSecret: { secret: old.secret!, until: clock.now() + MINUTE },
    };
    store.putChannel(rotated);
    commit(eventItems('LeaseIssued', clock.now(), [rotated]));
    await waitFor(() => r.received.length === 1, 'the first delivery');
    clock.advance(2 * MINUTE);
    commit(eventItems('LeaseIssued', clock.now(), [rotated]));
    await waitFor(() => r.received.length === 2, 'the second delivery');
    expect(r.received.map((_, n) => header(r, n, 'webhook-signature').split(' ').length)).toEqual([2, 1]);
    const [during] = r.received;
    expect(() =>
      new Webhook(old.secret!).verify(during!.body, during!.headers as Record<string, string>),
    ).not.toThrow();
    expect(() =>
      new Webhook(rotated.secret!).verify(during!.body, during!.headers as Record<string, string>),
    ).not.toThrow();
  });

  it('disables a webhook channel that has no signing secret instead of sending unsigned', async () => {
    const r = await receiver(answer(200));
    const channel = { ...makeChannel('webhook', r.url), secret: undefined };
    const { store, commit, clock, settle } = setup([channel]);
    commit(eventItems('LeaseIssued', clock.now(), [channel]));
    await waitFor(() => Boolean(store.channels()[0]?.disabled), 'the channel to be disabled');
    await settle();
    expect(store.channels()[0]?.disabled?.reason).toBe('the webhook channel has no signing secret');
    expect(r.received).toHaveLength(0);
  });

  it('500, 500, 200: exactly 3 attempts with one webhook-id, each verifiable, all in the log', async () => {
    // Attempts land 3 min before, 1 min before and 3 min after the real time, inside the
    // receiver library's ±5 min tolerance.
    const r = await receiver(answerInTurn(500, 500, 200));
    const channel = makeChannel('webhook', r.url);
    const { store, commit, clock, drive, dispatcher } = setup([channel], {}, new FakeClock(Date.now() - 3 * MINUTE));
    const [sent] = commit(eventItems('LeaseExpiringSoon', clock.now(), [channel]));
    await drive(3);
    expect(r.received).toHaveLength(3);
    expect(new Set(r.received.map((_, n) => header(r, n, 'webhook-id')))).toEqual(new Set([sent!.id]));
    const wh = new Webhook(channel.secret!);
    for (const req of r.received)
      expect(() => wh.verify(req.body, req.headers as Record<string, string>)).not.toThrow();
    expect(store.attempts.map((a) => [a.outcome, a.status, a.attempt])).toEqual([
      ['retry', 500, 1],
      ['retry', 500, 2],
      ['delivered', 200, 3],
    ]);
    expect(item(store, sent!.id)).toMatchObject({ status: 'delivered', attempts: 3, lastError: null, lastStatus: 200 });
    clock.advance(24 * 60 * MINUTE);
    expect(dispatcher.stats().requests).toBe(3);
  });

  it('a receiver that keeps failing gets 5 attempts over 30 min, then the item is failed and visible', async () => {
    const r = await receiver(answer(503));
    const channel = makeChannel('webhook', r.url);
    const { store, commit, clock, drive, dispatcher } = setup([channel]);
    const [sent] = commit(eventItems('LeaseExpired', clock.now(), [channel]));
    await drive(MAX_ATTEMPTS);
    const ats = store.attempts.map((a) => a.at);
    expect(ats.slice(1).map((at, i) => at - ats[i]!)).toEqual([2, 4, 8, 16].map((m) => m * MINUTE));
    expect(item(store, sent!.id)).toMatchObject({
      status: 'failed',
      attempts: 5,
      lastError: 'HTTP 503',
      lastStatus: 503,
    });
    expect(store.attempts.at(-1)).toMatchObject({ outcome: 'failed', nextAttemptAt: null });
    clock.advance(24 * 60 * MINUTE);
    expect(dispatcher.stats()).toMatchObject({ requests: 5, failed: 1, retries: 4 });
  });

  it('a hung receiver delays nothing else and is abandoned at the total timeout', async () => {
    const hung = await receiver(hang);
    const fine = await receiver(answer(200));
    const slow = makeChannel('webhook', hung.url);
    const fast = makeChannel('webhook', fine.url);
    const { store, commit, clock } = setup([slow, fast], { sendOptions: { totalTimeoutMs: 3_000 } });
    const [stuck] = commit(eventItems('LeaseIssued', clock.now(), [slow]));
    await waitFor(() => hung.open() === 1, 'the hung request');
    const sent = Array.from({ length: 5 }, () => commit(eventItems('LeaseIssued', clock.now(), [fast]))[0]!);
    await waitFor(() => fine.received.length === 5, 'the other channel’s deliveries');
    expect(hung.open()).toBe(1);
    expect(fine.received.map((_, n) => header(fine, n, 'webhook-id'))).toEqual(sent.map((s) => s.id));
    await waitFor(() => item(store, stuck!.id).attempts === 1, 'the hung attempt to be given up', 800);
    expect(item(store, stuck!.id)).toMatchObject({
      status: 'pending',
      lastError: 'no response within 3 s',
      lastStatus: null,
    });
    await waitFor(() => hung.open() === 0, 'the hung connection to close');
  });

  it('keeps at most maxInFlight requests open overall and one per channel', async () => {
    const rs = await Promise.all([1, 2, 3].map(() => receiver(hang)));
    const channels = rs.map((r) => makeChannel('webhook', r.url));
    const { commit, clock, settle, dispatcher } = setup(channels, {
      maxInFlight: 2,
      sendOptions: { totalTimeoutMs: 1_500 },
    });
    for (const channel of channels) {
      commit(eventItems('LeaseIssued', clock.now(), [channel]));
      commit(eventItems('LeaseRenewed', clock.now(), [channel]));
    }
    await waitFor(() => rs.filter((r) => r.open() === 1).length === 2, 'two requests in flight');
    for (let i = 0; i < 5; i++) {
      dispatcher.kick();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(rs.map((r) => r.received.length).reduce((a, b) => a + b)).toBe(2);
    expect(dispatcher.stats().inFlight).toBe(2);
    // The freed slot goes to the channel that has waited longest, not to a channel with more events.
    await waitFor(() => rs.every((r) => r.received.length >= 1), 'the third channel to get a slot', 800);
    await settle();
    // Each channel's first item failed and waits for its retry; the second went meanwhile, one at a time.
    expect(rs.map((r) => [r.received.length, r.maxOpen()])).toEqual([
      [2, 1],
      [2, 1],
      [2, 1],
    ]);
  });

  it('one failing event holds up nothing: the others go at once, it is retried on its own schedule', async () => {
    const r = await receiver(answerInTurn(500, 200));
    const channel = makeChannel('webhook', r.url);
    const { store, commit, clock, settle, dispatcher, healthChanges } = setup([channel]);
    const sent = CHANNEL_EVENTS.map((type) => commit(eventItems(type, clock.now(), [channel]))[0]!);
    await waitFor(() => r.received.length === sent.length, 'every event once, before any timer');
    await settle();
    expect(dispatcher.stats().requests).toBe(sent.length);
    expect(item(store, sent[0]!.id)).toMatchObject({ status: 'pending', attempts: 1, lastError: 'HTTP 500' });
    expect(sent.slice(1).map((s) => item(store, s.id).status)).toEqual(sent.slice(1).map(() => 'delivered'));
    // Failing from the first failed attempt, with its error, while that event waits for its retry.
    expect(healthChanges.map((h) => [h.failing, h.lastError])).toEqual([[true, 'HTTP 500']]);
    expect(dispatcher.health()[0]).toMatchObject({ failing: true, lastError: 'HTTP 500' });
    expect(clock.runNext()).toBe(BASE_RETRY_DELAY_MS);
    await waitFor(() => item(store, sent[0]!.id).status === 'delivered', 'the retry');
    await settle();
    const ids = r.received.map((_, n) => header(r, n, 'webhook-id'));
    expect(ids).toEqual([...sent.map((s) => s.id), sent[0]!.id]);
    expect(r.maxOpen()).toBe(1);
    expect(healthChanges.map((h) => h.failing)).toEqual([true, false]);
  });

  it('drops, instead of sending, an event older than the age bound; recorded in the delivery log', async () => {
    const r = await receiver(answer(500));
    const channel = makeChannel('webhook', r.url);
    const { store, commit, clock, settle } = setup([channel], { maxAgeMs: MINUTE });
    store.expiry = { maxAgeMs: MINUTE, now: clock.now };
    const [old] = commit(eventItems('LeaseIssued', clock.now(), [channel]));
    await waitFor(() => r.received.length === 1, 'the first attempt');
    await settle();
    // The retry would be at 2 min; the bound (1 min) comes first and wakes the dispatcher.
    expect(clock.runNext()).toBe(MINUTE);
    await waitFor(() => store.attempts.some((a) => a.outcome === 'dropped'), 'the drop');
    await settle();
    expect(store.get(old!.id)).toBeUndefined();
    expect(store.attempts.map((a) => [a.outcome, a.itemIds])).toEqual([
      ['retry', [old!.id]],
      ['dropped', [old!.id]],
    ]);
    clock.advance(10 * MINUTE);
    await settle();
    expect(r.received).toHaveLength(1);
  });

  it('410 Gone disables the channel, reported once; its items wait and nothing more is sent', async () => {
    const r = await receiver(answer(410));
    const channel = makeChannel('slack', r.url);
    const { store, commit, clock, settle, healthChanges, dispatcher } = setup([channel]);
    const items = [
      ...commit(eventItems('LeaseIssued', clock.now(), [channel])),
      ...commit(eventItems('LeaseRevoked', clock.now(), [channel])),
    ];
    clock.advance(500);
    await waitFor(() => Boolean(store.channels()[0]?.disabled), 'the channel to be disabled');
    await settle();
    clock.advance(24 * 60 * MINUTE);
    await settle();
    expect(r.received).toHaveLength(1);
    expect(store.channels()[0]?.disabled?.reason).toBe('the receiver answered 410 Gone');
    expect(items.map((i) => item(store, i.id).status)).toEqual(['pending', 'pending']);
    expect(healthChanges).toHaveLength(1);
    expect(healthChanges[0]?.disabled?.reason).toBe('the receiver answered 410 Gone');
    expect(dispatcher.health()[0]?.disabled).not.toBeNull();
    await expect(dispatcher.retryNow(items[0]!.id)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('20 leases issued together reach Slack and Discord as ONE message each, webhooks as 20', async () => {
    const slackR = await receiver();
    const discordR = await receiver();
    const hookR = await receiver();
    const channels = [
      makeChannel('slack', slackR.url),
      makeChannel('discord', discordR.url),
      makeChannel('webhook', hookR.url),
    ];
    const { store, commit, clock, settle, dispatcher } = setup(channels);
    const start = clock.now();
    for (let i = 0; i < 20; i++) {
      const data = leaseData(1, start + 2 * 60 * MINUTE);
      data.leaseIds = [`lease${String(i).padStart(12, '0')}`];
      data.leases = [{ ...data.leases![0]!, id: data.leaseIds[0]! }];
      commit(eventItems('LeaseIssued', clock.now(), channels, data));
      clock.advance(10);
    }
    await waitFor(() => hookR.received.length === 20, 'the webhook deliveries');
    await settle();
    expect([slackR.received.length, discordR.received.length]).toEqual([0, 0]);
    clock.advance(start + 500 - clock.now());
    await waitFor(() => store.items.every((i) => i.status === 'delivered'), 'every item delivered');
    expect([slackR.received.length, discordR.received.length]).toEqual([1, 1]);
    const slack = JSON.parse(slackR.received[0]!.body);
    expect(slack.text).toMatch(/^20 leases issued in my-api\/production/);
    expect(slack.blocks[0].text.text).toBe('*20 leases issued in my-api/production*');
    const discord = JSON.parse(discordR.received[0]!.body);
    expect(discord.content).toBe('20 leases issued in my-api/production');
    expect(discord.allowed_mentions).toEqual({ parse: [] });
    const grouped = store.attempts.filter((a) => a.channelId === channels[0]!.id);
    expect(grouped.map((a) => a.itemIds.length)).toEqual([20]);
    // One more a second later is a message of its own.
    clock.advance(1_000);
    commit(eventItems('LeaseIssued', clock.now(), channels));
    clock.advance(500);
    await waitFor(() => slackR.received.length === 2 && discordR.received.length === 2, 'the late messages');
    expect(JSON.parse(slackR.received[1]!.body).text).toMatch(/^Lease issued in my-api\/production/);
    expect(dispatcher.stats().delivered).toBe(63);
  });

  it('no request body or header carries a secret value, a signing secret or a token', async () => {
    const rs = await Promise.all([1, 2, 3].map(() => receiver()));
    const channels = [
      makeChannel('webhook', rs[0]!.url),
      makeChannel('slack', rs[1]!.url),
      makeChannel('discord', rs[2]!.url),
    ];
    const token = `bax-abcdefghij012345-${'Q'.repeat(43)}`;
    const secretValues = ['postgres://app:hunter2-FAKE@db:5432/app', 'sk_live_FAKE0123456789', 'FAKE-API-KEY-42'];
    const { store, commit, clock } = setup(channels);
    for (const type of CHANNEL_EVENTS) {
      const data = {
        ...leaseData(2, clock.now() + 60 * MINUTE, `deploying with ${token}`),
        reason: `revoked: leaked ${token}`,
        refusals: 3,
        // What a careless caller might hand over with the metadata:
        token,
        tokenHash: 'a'.repeat(64),
        secrets: { DATABASE_URL: secretValues[0], STRIPE: secretValues[1], API_KEY: secretValues[2] },
      } as ChannelEventData;
      commit(eventItems(type, clock.now(), channels, data));
      clock.advance(1_000);
    }
    clock.advance(1_000);
    await waitFor(() => store.items.every((i) => i.status === 'delivered'), 'every delivery');
    const requests = rs.flatMap((r) => r.received);
    expect(requests.length).toBe(CHANNEL_EVENTS.length * 3);
    const forbidden = [
      ...secretValues,
      token,
      'bax-',
      'a'.repeat(64),
      ...channels.flatMap((c) => (c.secret ? [c.secret, c.secret.slice(6)] : [])),
    ];
    for (const req of requests) {
      const everything = [req.body, ...Object.values(req.headers).flat()].join('\n');
      for (const value of forbidden) expect(everything).not.toContain(value);
    }
  });

  it('a failing channel is reported once, never logged per attempt, and recovers on retryNow', async () => {
    const error = vi.spyOn(console, 'error');
    const warn = vi.spyOn(console, 'warn');
    const log = vi.spyOn(console, 'log');
    let status = 500;
    const r = await receiver((_req, _n, res) => res.writeHead(status).end());
    const channel = makeChannel('webhook', r.url);
    const { store, commit, clock, drive, settle, healthChanges, dispatcher, errors } = setup([channel], {
      onError: undefined,
    });
    const items = [
      ...commit(eventItems('LeaseIssued', clock.now(), [channel])),
      ...commit(eventItems('LeaseRevoked', clock.now(), [channel])),
    ];
    const first = clock.now();
    await drive(2 * MAX_ATTEMPTS);
    expect(items.map((i) => item(store, i.id).status)).toEqual(['failed', 'failed']);
    expect(healthChanges.map((h) => h.failing)).toEqual([true]);
    expect(dispatcher.health()[0]).toMatchObject({
      failing: true,
      since: first,
      consecutiveFailures: 10,
      failedCount: 2,
      lastError: 'HTTP 500',
    });
    expect([error.mock.calls.length, warn.mock.calls.length, log.mock.calls.length, errors.length]).toEqual([
      0, 0, 0, 0,
    ]);

    status = 200;
    const requeued = await dispatcher.retryNow(items.map((i) => i.id));
    expect(requeued.map((i) => [i.status, i.attempts])).toEqual([
      ['pending', 0],
      ['pending', 0],
    ]);
    await waitFor(() => items.every((i) => item(store, i.id).status === 'delivered'), 'the retried deliveries');
    await settle();
    expect(healthChanges.map((h) => h.failing)).toEqual([true, false]);
    expect(dispatcher.health()[0]).toMatchObject({ failing: false, failedCount: 0, lastError: null });
    expect(r.received.slice(-2).map((_, n) => header(r, 10 + n, 'webhook-id'))).toEqual(items.map((i) => i.id));
  });

  it('retryNow sends a waiting item at once; refuses unknown and delivered ones', async () => {
    const r = await receiver(answerInTurn(500, 200));
    const channel = makeChannel('webhook', r.url);
    const { store, commit, clock, settle, dispatcher } = setup([channel]);
    const [sent] = commit(eventItems('LeaseIssued', clock.now(), [channel]));
    await settle();
    expect(item(store, sent!.id)).toMatchObject({ status: 'pending', attempts: 1 });
    const before = clock.now();
    await dispatcher.retryNow(sent!.id);
    await waitFor(() => item(store, sent!.id).status === 'delivered', 'the retried delivery');
    expect(clock.now()).toBe(before);
    expect(item(store, sent!.id).attempts).toBe(2);
    await expect(dispatcher.retryNow(sent!.id)).rejects.toMatchObject({ code: 'conflict' });
    await expect(dispatcher.retryNow('msg_nope')).rejects.toBeInstanceOf(BellaError);
    await expect(dispatcher.retryNow('msg_nope')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('stop() waits for the request in flight to time out and be recorded, then sends nothing', async () => {
    const r = await receiver(hang);
    const channel = makeChannel('webhook', r.url);
    const { store, commit, clock, dispatcher } = setup([channel], { sendOptions: { totalTimeoutMs: 300 } });
    commit(eventItems('LeaseIssued', clock.now(), [channel]));
    await waitFor(() => r.open() === 1, 'the request');
    await dispatcher.stop();
    expect(store.attempts.map((a) => a.error)).toEqual(['no response within 0.3 s']);
    expect(dispatcher.stats().inFlight).toBe(0);
    commit(eventItems('LeaseIssued', clock.now(), [channel]));
    clock.advance(60 * MINUTE);
    expect(dispatcher.stats().requests).toBe(1);
  });

  it('a delivery whose result could not be written is sent again with the same id (at least once)', async () => {
    const r = await receiver(answer(200));
    const channel = makeChannel('webhook', r.url);
    const { store, commit, clock, settle, dispatcher, errors } = setup([channel]);
    store.failWrites = 1;
    const [sent] = commit(eventItems('LeaseIssued', clock.now(), [channel]));
    await waitFor(() => errors.length === 1, 'the store error');
    await settle();
    expect(item(store, sent!.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(dispatcher.stats().storeErrors).toBe(1);
    clock.advance(30_000);
    await waitFor(() => item(store, sent!.id).status === 'delivered', 'the second delivery');
    expect(r.received.map((_, n) => header(r, n, 'webhook-id'))).toEqual([sent!.id, sent!.id]);
  });

  it('sends the next event while the last delivery is still being written, in order; stop() waits for the writes', async () => {
    const r = await receiver(answer(200));
    const channel = makeChannel('webhook', r.url);
    const { store, commit, clock, dispatcher } = setup([channel]);
    const release = store.pauseWrites();
    const sent = [1, 2, 3].map(() => commit(eventItems('LeaseIssued', clock.now(), [channel]))[0]!);
    await waitFor(() => r.received.length === 3, 'three requests before any write finished');
    expect(store.attempts).toHaveLength(0);
    expect(r.received.map((_, n) => header(r, n, 'webhook-id'))).toEqual(sent.map((s) => s.id));
    let stopped = false;
    const stopping = dispatcher.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(sent.map((s) => item(store, s.id).status)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(r.received).toHaveLength(3);
  });

  it('a failed delivery is written before the channel’s next request, so it is not sent again at once', async () => {
    const r = await receiver(answerInTurn(500, 200));
    const channel = makeChannel('webhook', r.url);
    const { store, commit, clock, settle, dispatcher } = setup([channel]);
    const release = store.pauseWrites();
    const sent = [1, 2].map(() => commit(eventItems('LeaseIssued', clock.now(), [channel]))[0]!);
    await waitFor(() => r.received.length === 1, 'the first request');
    for (let i = 0; i < 5; i++) {
      dispatcher.kick();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(r.received).toHaveLength(1);
    release();
    await settle();
    // The second event went once the failure was on record; the first waits for its retry.
    expect(r.received.map((_, n) => header(r, n, 'webhook-id'))).toEqual([sent[0]!.id, sent[1]!.id]);
    clock.runNext();
    await waitFor(() => sent.every((s) => item(store, s.id).status === 'delivered'), 'both delivered');
    expect(r.received.map((_, n) => header(r, n, 'webhook-id'))).toEqual([sent[0]!.id, sent[1]!.id, sent[0]!.id]);
  });

  it('after a restart, a new dispatcher delivers what the outbox still holds, with the stored id', async () => {
    const r = await receiver(answer(200));
    const channel = makeChannel('webhook', r.url);
    const clock = new FakeClock(Date.now());
    const [left] = eventItems('LeaseExpiringSoon', clock.now() - 5 * MINUTE, [channel]);
    const stored: OutboxItem = {
      ...left!,
      attempts: 3,
      lastError: 'connection refused',
      nextAttemptAt: clock.now() - MINUTE,
    };
    const store = new MemoryOutboxStore([channel]);
    store.add([stored]);
    const dispatcher = new Dispatcher({ store, clock, onError: () => {} });
    dispatchers.push(dispatcher);
    expect(dispatcher.health()[0]?.failing).toBe(false);
    dispatcher.start();
    expect(dispatcher.health()[0]).toMatchObject({
      failing: true,
      consecutiveFailures: 3,
      lastError: 'connection refused',
    });
    await waitFor(() => item(store, stored.id).status === 'delivered', 'the delivery after restart');
    expect(header(r, 0, 'webhook-id')).toBe(stored.id);
    expect(item(store, stored.id).attempts).toBe(4);
  });
});
