import { afterEach, describe, expect, it } from 'vitest';
import type { DaemonEvent } from '../../daemon/api/events';
import { DaemonClient } from '../../daemon/client';
import { answer, startReceiver, type Receiver, type Responder } from '../helpers/channels';
import { BellaSandbox, waitFor } from '../helpers/cli';
import { startNotificationBus, type TestBus } from '../helpers/dbus';
import { seed } from '../helpers/daemon';
import { daemonPool } from '../helpers/pool';

// Issue 16, item 12: one stuck event never holds up the others. Real daemon, real receivers on
// loopback, the real CLI for what a person sees.

const pool = daemonPool('bella-isolation');
const receivers: Receiver[] = [];
const sandboxes: BellaSandbox[] = [];
const buses: TestBus[] = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  for (const r of receivers.splice(0)) await r.close();
  for (const s of sandboxes.splice(0)) await s.stop();
  for (const b of buses.splice(0)) await b.stop();
});

/** A daemon with a real notification bus, its SSE stream recorded, and a channel to a receiver answering 500. */
async function failingChannel(env: Record<string, string>) {
  const bus = await startNotificationBus();
  buses.push(bus);
  const { daemon } = await pool.start({ env: { ...bus.env, ...env } });
  await seed(daemon.client);
  const events: DaemonEvent[] = [];
  const unsubscribe = await daemon.client.subscribe((e) => events.push(e));
  cleanups.push(unsubscribe);
  const hook = await receiver(answer(500));
  const { channel } = await daemon.client.call('addChannel', {
    kind: 'webhook',
    url: hook.url,
    name: 'ops hook',
    events: ['LeaseIssued'],
    ...LOOPBACK,
  });
  return { bus, daemon, events, hook, channel };
}

async function receiver(respond?: Responder): Promise<Receiver> {
  const r = await startReceiver(respond);
  receivers.push(r);
  return r;
}

/** The receivers are on loopback over plain HTTP: both need saying (issue 16, item 11). */
const LOOPBACK = { allowPrivate: true, insecureHttp: true } as const;

function reasonOf(body: string): string | undefined {
  return (JSON.parse(body) as { data: { leases?: Array<{ reason: string }> } }).data.leases?.[0]?.reason;
}

/** Answers 500 to the first event (every attempt of it: the same webhook-id), 200 to the rest. */
function failFirst(): Responder {
  let stuck: unknown;
  return (request, n, res) => {
    if (n === 0) stuck = request.headers['webhook-id'];
    res.writeHead(request.headers['webhook-id'] === stuck ? 500 : 200).end('ok');
  };
}

async function issue(client: DaemonClient, reason: string) {
  return client.call('issueLease', {
    project: 'app',
    environment: 'prod',
    scope: ['API_KEY'],
    reason,
    ttlSeconds: 3600,
  });
}

describe('one stuck event never holds up the others', () => {
  it('after a 500 on one event, later events (an expiry warning too) arrive at once; the channel shows failing', async () => {
    // Default retry schedule (2 min, then 4, 8, 16): the stuck event is not retried during the test.
    const bella = new BellaSandbox();
    sandboxes.push(bella);
    await bella.ok(['projects', 'create', '--name', 'app', '--slug', 'app']);
    await bella.ok(['environments', 'create', '--project', 'app', '--name', 'prod', '--slug', 'prod']);
    await bella.ok(['secrets', 'set', 'API_KEY', 'k-1', '-p', 'app', '-e', 'prod']);
    const hook = await receiver(failFirst());
    const client = new DaemonClient({ socketPath: bella.socket });
    try {
      const added = await client.call('addChannel', { kind: 'webhook', url: hook.url, ...LOOPBACK });
      await issue(client, 'stuck');
      await waitFor(() => hook.received.length >= 1, 'the first (refused) delivery');
      await client.call('setLeasePolicy', { project: 'app', environment: 'prod', ttlSeconds: 6, warnBeforeSeconds: 3 });
      await issue(client, 'after 1');
      await issue(client, 'after 2');
      await waitFor(
        () => hook.received.some((r) => JSON.parse(r.body).type === 'LeaseExpiringSoon'),
        'the later events and the expiry warning, while the first waits for its retry',
        15_000,
      );
      const reasons = hook.received.map((r) => reasonOf(r.body));
      expect(reasons).toContain('after 1');
      expect(reasons).toContain('after 2');
      // The stuck one was tried once and waits 2 minutes for its retry: it held nothing up.
      const stuckId = hook.received[0]!.headers['webhook-id'];
      expect(hook.received.filter((r) => r.headers['webhook-id'] === stuckId)).toHaveLength(1);
      expect(reasons[0]).toBe('stuck');

      // The channel says so, with the error, in the table and in --json.
      const listed = await bella.json<{
        channels: Array<{ id: string; health: { failing: boolean; lastError: string | null } | null }>;
      }>(['notifications', 'channels', 'list']);
      const health = listed.channels.find((c) => c.id === added.channel.id)?.health;
      expect(health).toMatchObject({ failing: true, lastError: 'HTTP 500' });
      const table = await bella.ok(['notifications', 'channels', 'list', '--wide']);
      expect(table).toMatch(/failing: HTTP 500/);
    } finally {
      client.close();
    }
  }, 60_000);
});

describe('the outbox is bounded per channel; what is dropped is logged and reported once', () => {
  it('beyond the count bound the oldest is dropped: in the delivery log, one desktop notification, one event', async () => {
    const { bus, daemon, events, hook, channel } = await failingChannel({ BELLA_CHANNEL_OUTBOX_MAX: '3' });
    for (let i = 0; i < 5; i++) await issue(daemon.client, `bounded ${i}`);
    const log = await waitFor(async () => {
      const l = await daemon.client.call('listDeliveries', { channel: channel.id });
      return l.deliveries.filter((d) => d.outcome === 'dropped').length === 2 ? l : undefined;
    }, 'two events dropped by the bound');
    const dropped = log.deliveries.filter((d) => d.outcome === 'dropped');
    expect(dropped.map((d) => d.error)).toEqual([
      "the channel's outbox holds at most 3 undelivered events: the oldest was dropped",
      "the channel's outbox holds at most 3 undelivered events: the oldest was dropped",
    ]);
    // The dropped ones are the two oldest: the three newest are still waiting for their retry.
    const newest = ['bounded 2', 'bounded 3', 'bounded 4'];
    await waitFor(
      () => newest.every((n) => hook.received.some((r) => reasonOf(r.body) === n)),
      'the three newest tried once',
    );
    const kept = hook.received
      .filter((r) => newest.includes(reasonOf(r.body) ?? ''))
      .map((r) => r.headers['webhook-id']);
    expect(dropped.flatMap((d) => d.itemIds).filter((id) => kept.includes(id))).toEqual([]);
    expect((await daemon.client.call('listChannels', {})).pending).toBe(3);
    const call = await bus.waitFor((c) => c.summary.includes('not delivered to ops hook'), 10_000);
    expect(call.body).toContain(`bella notifications deliveries --channel ${channel.id}`);
    const drops = events.filter((e) => e.type === 'ChannelEventsDropped');
    expect(drops).toEqual([expect.objectContaining({ channelId: channel.id, channel: 'ops hook', dropped: 1 })]);
    const { channels } = await daemon.client.call('listChannels', {});
    expect(channels[0]?.health).toMatchObject({ failing: true, lastError: 'HTTP 500', droppedCount: 2 });
    // Reported once: the second drop was not announced again.
    expect(bus.notifications().filter((c) => c.summary.includes('not delivered'))).toHaveLength(1);
  }, 60_000);

  it('an event older than the age bound is dropped, not retried, and logged', async () => {
    const { daemon, hook, channel } = await failingChannel({
      BELLA_CHANNEL_OUTBOX_MAX_AGE_MS: '1500',
      BELLA_CHANNEL_RETRY_BASE_MS: '60000',
    });
    await issue(daemon.client, 'too old');
    const dropped = await waitFor(async () => {
      const l = await daemon.client.call('listDeliveries', { channel: channel.id });
      return l.deliveries.find((d) => d.outcome === 'dropped');
    }, 'the event to pass the age bound');
    expect(dropped.error).toBe('not delivered within 1.5 s: dropped');
    expect(hook.received).toHaveLength(1);
    expect((await daemon.client.call('listChannels', {})).pending).toBe(0);
  }, 60_000);
});
