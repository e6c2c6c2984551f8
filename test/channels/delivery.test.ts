import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import type { DaemonClient } from '../../daemon/client';
import { answer, answerInTurn, hang, startReceiver, type Receiver } from '../helpers/channels';
import { waitFor } from '../helpers/cli';
import { seed, tokenRead } from '../helpers/daemon';
import { daemonPool } from '../helpers/pool';

const pool = daemonPool('bella-channels');
const receivers: Receiver[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
});

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

/**
 * The receivers here are plain HTTP on 127.0.0.1 (and the Slack one is not Slack's host): what a
 * channel may reach only when `add` says so (issue 16, item 11).
 */
const LOOPBACK = { allowPrivate: true, insecureHttp: true, anyHost: true } as const;

/** Knobs: retries a few hundred ms apart instead of minutes. */
const FAST_RETRIES = { env: { BELLA_CHANNEL_RETRY_BASE_MS: '200' } };

/** The reason of the (one) lease a webhook body is about. */
function leaseReason(body: string): string | undefined {
  return (JSON.parse(body) as { data: { leases?: Array<{ reason: string }> } }).data.leases?.[0]?.reason;
}

async function issue(client: DaemonClient, reason = 'channels test', scope = ['API_KEY']) {
  return client.call('issueLease', { project: 'app', environment: 'prod', scope, reason, ttlSeconds: 3600 });
}

describe('notification channels deliver every event at least once', () => {
  it('signs webhooks the Standard Webhooks way: the library verifies them; payloads carry no value or token', async () => {
    const { daemon } = await pool.start();
    await seed(daemon.client);
    const hook = await receiver();
    const added = await daemon.client.call('addChannel', {
      ...LOOPBACK,
      kind: 'webhook',
      url: hook.url,
      name: 'ops',
    });
    expect(added.secret).toMatch(/^whsec_/);
    expect(added.channel.url).not.toContain('T0KEN-IN-PATH');
    const lease = await issue(daemon.client);
    expect((await tokenRead(daemon.socket, lease.token)).status).toBe(200);
    await daemon.client.call('revokeLease', { id: lease.lease.id });
    await waitFor(() => hook.received.length >= 2, 'the issue and revoke webhooks');
    const wh = new Webhook(added.secret!);
    const types = hook.received.map((r) => {
      const event = wh.verify(r.body, r.headers as Record<string, string>) as {
        type: string;
        data: { leaseIds: string[] };
      };
      expect(event.data.leaseIds).toEqual([lease.lease.id]);
      return event.type;
    });
    expect(types).toEqual(['LeaseIssued', 'LeaseRevoked']);
    const everything = hook.received.map((r) => JSON.stringify(r.headers) + r.body).join('\n');
    for (const secret of ['k-1', 'postgres://x', 'sk_live_1', lease.token, lease.token.slice(-43)]) {
      expect(everything).not.toContain(secret);
    }
  }, 30_000);

  it('retries a receiver that answers 500 twice: 3 attempts with one webhook-id, all in the delivery log', async () => {
    const { daemon } = await pool.start(FAST_RETRIES);
    await seed(daemon.client);
    const hook = await receiver(answerInTurn(500, 500, 200));
    const { channel } = await daemon.client.call('addChannel', {
      ...LOOPBACK,
      kind: 'webhook',
      url: hook.url,
      events: ['LeaseIssued'],
    });
    await issue(daemon.client);
    await waitFor(() => hook.received.length >= 3, 'three attempts', 15_000);
    expect(new Set(hook.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    const log = await waitFor(async () => {
      const l = await daemon.client.call('listDeliveries', { channel: channel.id });
      return l.deliveries.length === 3 ? l : undefined;
    }, 'the delivery log');
    expect(log.deliveries.map((d) => d.outcome)).toEqual(['delivered', 'retry', 'retry']);
    expect(log.deliveries.map((d) => d.status)).toEqual([200, 500, 500]);
  }, 30_000);

  it('delivers, after a kill -9 and a restart, an event whose receiver was down: once per id', async () => {
    // Retries 200 ms apart: whether or not the refused first attempt was recorded before the kill
    // (a race the test does not control), the attempts left are made by the restarted daemon.
    const { daemon } = await pool.start(FAST_RETRIES);
    await seed(daemon.client);
    const hook = await receiver();
    const url = hook.url;
    await hook.close();
    receivers.splice(receivers.indexOf(hook), 1);
    await daemon.client.call('addChannel', {
      ...LOOPBACK,
      kind: 'webhook',
      url,
      events: ['LeaseIssued'],
    });
    const lease = await issue(daemon.client);
    await daemon.kill9();
    // The receiver comes back on the same address, then the daemon.
    const port = Number(new URL(url).port);
    const back = await receiver(answer(200), port);
    await pool.restart(daemon, FAST_RETRIES);
    await waitFor(() => back.received.length >= 1, 'the event after the restart', 15_000);
    await new Promise((r) => setTimeout(r, 500));
    const ids = back.received.map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(ids.length);
    expect(JSON.parse(back.received[0]!.body).data.leaseIds).toEqual([lease.lease.id]);
  }, 30_000);

  it('a hung receiver delays nothing else: lease operations and another channel keep going', async () => {
    const { daemon } = await pool.start();
    await seed(daemon.client);
    const stuck = await receiver(hang);
    const fine = await receiver();
    await daemon.client.call('addChannel', {
      ...LOOPBACK,
      kind: 'webhook',
      url: stuck.url,
      events: ['LeaseIssued'],
    });
    await daemon.client.call('addChannel', {
      ...LOOPBACK,
      kind: 'webhook',
      url: fine.url,
      events: ['LeaseIssued'],
    });
    await issue(daemon.client);
    await waitFor(() => stuck.open() === 1, 'the hung receiver to hold a request');
    let done = 0;
    for (let i = 0; i < 30; i++) {
      await issue(daemon.client, `while hung ${i}`);
      done++;
    }
    expect(done).toBe(30);
    await waitFor(() => fine.received.length === 31, 'the other channel to get all 31 events');
    expect(stuck.received.length).toBe(1);
  }, 30_000);

  it('groups 20 leases issued together into one Slack message', async () => {
    const { daemon } = await pool.start();
    await seed(daemon.client);
    const slack = await receiver();
    await daemon.client.call('addChannel', {
      ...LOOPBACK,
      kind: 'slack',
      url: slack.url,
      events: ['LeaseIssued'],
    });
    await Promise.all(Array.from({ length: 20 }, (_, i) => issue(daemon.client, `batch ${i}`)));
    await waitFor(() => slack.received.length >= 1, 'the Slack message');
    await new Promise((r) => setTimeout(r, 1000));
    expect(slack.received).toHaveLength(1);
    const message = JSON.parse(slack.received[0]!.body) as { text: string; blocks: unknown[] };
    expect(message.text).toMatch(/20 leases/);
    expect(message.blocks.length).toBeGreaterThan(0);
  }, 30_000);

  it('a policy of 8 s / 4 s: LeaseExpiringSoon reaches the webhook within 1 s of the warn instant', async () => {
    const { daemon } = await pool.start();
    await seed(daemon.client);
    const hook = await receiver();
    await daemon.client.call('addChannel', {
      ...LOOPBACK,
      kind: 'webhook',
      url: hook.url,
      events: ['LeaseExpiringSoon', 'LeaseExpired'],
    });
    await daemon.client.call('setLeasePolicy', {
      project: 'app',
      environment: 'prod',
      ttlSeconds: 8,
      warnBeforeSeconds: 4,
    });
    const lease = await issue(daemon.client);
    const arrivals: Array<{ type: string; at: number }> = [];
    const seen = () => {
      while (arrivals.length < hook.received.length) {
        arrivals.push({ type: JSON.parse(hook.received[arrivals.length]!.body).type as string, at: Date.now() });
      }
      return arrivals.some((a) => a.type === 'LeaseExpired');
    };
    await waitFor(seen, 'the warning and the expiry', 15_000);
    const warnAt = Date.parse(lease.lease.expiresAt) - 4000;
    const warned = arrivals.find((a) => a.type === 'LeaseExpiringSoon')!;
    expect(warned.at - warnAt).toBeLessThanOrEqual(1000);
  }, 30_000);

  it('a 410 Gone disables the channel: one request, shown disabled; enabled, what waited goes out', async () => {
    const { daemon } = await pool.start(FAST_RETRIES);
    await seed(daemon.client);
    const hook = await receiver(answerInTurn(410, 200));
    const { channel } = await daemon.client.call('addChannel', {
      ...LOOPBACK,
      kind: 'webhook',
      url: hook.url,
      events: ['LeaseIssued'],
    });
    await issue(daemon.client, 'before the 410');
    await waitFor(async () => {
      const { channels } = await daemon.client.call('listChannels', {});
      return channels.find((c) => c.id === channel.id)?.disabled;
    }, 'the channel to be disabled');
    // A disabled channel takes no new events: it is not subscribed until enabled.
    await issue(daemon.client, 'while disabled');
    // Well past several retry intervals (200 ms apart here): still the one request.
    await new Promise((r) => setTimeout(r, 1000));
    expect(hook.received).toHaveLength(1);
    await daemon.client.call('enableChannel', { id: channel.id });
    await waitFor(() => hook.received.length >= 2, 'the waiting event after enabling');
    await issue(daemon.client, 'after enabling');
    await waitFor(() => hook.received.length >= 3, 'the next event');
    const reasons = hook.received.map((r) => leaseReason(r.body));
    expect(reasons).toEqual(['before the 410', 'before the 410', 'after enabling']);
    expect(new Set(hook.received.slice(0, 2).map((r) => r.headers['webhook-id'])).size).toBe(1);
  }, 30_000);

  it('a rotated secret signs at once (the old one too, for the overlap); a test is in the delivery log', async () => {
    const { daemon } = await pool.start();
    await seed(daemon.client);
    const hook = await receiver();
    const added = await daemon.client.call('addChannel', {
      ...LOOPBACK,
      kind: 'webhook',
      url: hook.url,
      name: 'ops',
    });
    const { secret } = await daemon.client.call('rotateChannelSecret', { id: added.channel.id });
    const tested = await daemon.client.call('testChannel', { id: added.channel.id });
    expect(tested).toMatchObject({ delivered: true, status: 200 });
    const request = hook.received.at(-1)!;
    for (const key of [secret, added.secret!]) {
      expect(() => new Webhook(key).verify(request.body, request.headers as Record<string, string>)).not.toThrow();
    }
    const log = await daemon.client.call('listDeliveries', { channel: added.channel.id });
    expect(log.deliveries.map((d) => [d.outcome, d.status, d.attempt])).toEqual([['delivered', 200, 1]]);
  }, 30_000);

  it('a channel the owner disables gets nothing until it is enabled again', async () => {
    const { daemon } = await pool.start();
    await seed(daemon.client);
    const hook = await receiver();
    const { channel } = await daemon.client.call('addChannel', {
      ...LOOPBACK,
      kind: 'webhook',
      url: hook.url,
      events: ['LeaseIssued'],
    });
    const disabled = await daemon.client.call('disableChannel', { id: channel.id });
    expect(disabled.channel.disabled).toMatchObject({ reason: 'disabled by the owner' });
    await issue(daemon.client, 'while disabled');
    await new Promise((r) => setTimeout(r, 500));
    expect(hook.received).toHaveLength(0);
    await daemon.client.call('enableChannel', { id: channel.id });
    await issue(daemon.client, 'enabled');
    await waitFor(() => hook.received.length === 1, 'the event after enabling');
    expect(leaseReason(hook.received[0]!.body)).toBe('enabled');
  }, 30_000);
});
