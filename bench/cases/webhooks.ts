import { startReceiver } from '../../test/helpers/channels';
import { seed, sleep } from '../../test/helpers/daemon';
import { benchDaemon, issueMany, percentile, round, waitFor } from '../lib';

/** Figures of the webhooks case, as written to latest.json. */
export interface WebhooksResult {
  events: number;
  delivered: number;
  p50_ms: number;
  p99_ms: number;
  lost: number;
}

/**
 * A webhook channel (every default event) posting to a real receiver on 127.0.0.1, and `count`
 * leases issued by 16 concurrent clients: each issue raises exactly one channel event
 * (LeaseIssued; no policy, so no warning). Latency per event: from its own timestamp in the
 * payload (the commit's time, on the daemon's clock, the same machine's) to its first arrival.
 */
export async function webhooksCase(count = 1000): Promise<
  WebhooksResult & {
    issue_ms: number;
    min_ms: number;
    max_ms: number;
    first_arrival_ms: number;
    last_arrival_ms: number;
    requests: number;
    duplicates: number;
    other_events: Record<string, number>;
  }
> {
  const { daemon, place } = await benchDaemon('webhooks');
  const arrivals: number[] = [];
  const receiver = await startReceiver((_request, n, res) => {
    arrivals[n] = Date.now();
    res.writeHead(200).end('ok');
  });
  try {
    const { project, environment } = await seed(daemon.client);
    // The receiver is plain HTTP on loopback: allowed only when said so.
    const added = await daemon.client.call('addChannel', {
      kind: 'webhook',
      url: receiver.url,
      name: 'bench',
      allowPrivate: true,
      insecureHttp: true,
    });
    if (!added.channel.events.includes('LeaseIssued')) throw new Error('webhooks: LeaseIssued is not a default event');
    const t = performance.now();
    const issueStart = Date.now();
    const issued = await issueMany(daemon.client, count, 16, (i) => ({
      project,
      environment,
      scope: ['API_KEY'],
      ttlSeconds: 3600,
      reason: `webhook bench ${i}`,
    }));
    const issueMs = performance.now() - t;
    const expected = new Set(issued.map((l) => l.id));
    const firstArrival = new Map<string, { at: number; latency: number }>();
    const otherEvents: Record<string, number> = {};
    let seen = 0;
    const collect = () => {
      for (; seen < receiver.received.length && arrivals[seen] !== undefined; seen++) {
        const r = receiver.received[seen]!;
        const id = String(r.headers['webhook-id']);
        const event = JSON.parse(r.body) as { type: string; timestamp: string; data: { leaseIds: string[] } };
        if (event.type !== 'LeaseIssued' || !expected.has(event.data.leaseIds[0]!)) {
          otherEvents[event.type] = (otherEvents[event.type] ?? 0) + 1;
          continue;
        }
        if (!firstArrival.has(id)) {
          firstArrival.set(id, { at: arrivals[seen]!, latency: arrivals[seen]! - Date.parse(event.timestamp) });
        }
      }
      return firstArrival.size >= count;
    };
    // Bounded: every event should be there well within this; what is not is counted lost.
    await waitFor(collect, 30_000, 20);
    await sleep(500);
    collect();
    const latencies = [...firstArrival.values()].map((a) => a.latency);
    const requests = receiver.received.length;
    return {
      events: count,
      delivered: firstArrival.size,
      p50_ms: percentile(latencies, 50),
      p99_ms: percentile(latencies, 99),
      lost: count - firstArrival.size,
      issue_ms: round(issueMs, 0),
      min_ms: Math.min(...latencies),
      max_ms: Math.max(...latencies),
      // When the first and the last event arrived, from the start of the issues.
      first_arrival_ms: Math.min(...[...firstArrival.values()].map((a) => a.at)) - issueStart,
      last_arrival_ms: Math.max(...[...firstArrival.values()].map((a) => a.at)) - issueStart,
      requests,
      duplicates: requests - firstArrival.size - Object.values(otherEvents).reduce((a, b) => a + b, 0),
      other_events: otherEvents,
    };
  } finally {
    await daemon.stop();
    await receiver.close();
    place.cleanup();
  }
}
