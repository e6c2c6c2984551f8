import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { DaemonClient } from '../../daemon/client';
import { seed } from '../helpers/daemon';
import { daemonPool } from '../helpers/pool';
import { waitFor } from '../helpers/cli';

/** A subscriber of /v1/events that reads nothing once connected (its socket paused). */
function stalledSubscriber(socket: string): Promise<{ conn: net.Socket; status: number; closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(socket);
    let head = '';
    let closed = false;
    conn.on('close', () => (closed = true));
    conn.on('error', () => undefined);
    conn.once('connect', () =>
      conn.write('GET /v1/events HTTP/1.1\r\nHost: bella\r\nAccept: text/event-stream\r\n\r\n'),
    );
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (!status) return;
      conn.off('data', onData);
      conn.pause();
      resolve({ conn, status: Number(status[1]), closed: () => closed });
    };
    conn.on('data', onData);
    conn.once('error', reject);
  });
}

const pool = daemonPool('bella-sse');

describe('the event stream cannot grow the daemon', () => {
  it('8. caps subscribers, drops those that never read, and keeps its memory flat', async () => {
    const { daemon } = await pool.start();
    const { project, environment } = await seed(daemon.client);
    const client = new DaemonClient({ socketPath: daemon.socket, timeoutMs: 60_000 });
    let issued = 0;
    const issueUntil = (total: number) =>
      Promise.all(
        Array.from({ length: 32 }, async () => {
          while (issued < total) {
            issued++;
            await client.call('issueLease', { project, environment, scope: ['API_KEY'], reason: `sse ${issued}` });
          }
        }),
      );
    // The same work with no subscriber first, so what is measured below is what the subscribers
    // cost, not the daemon warming up (code loaded at first use, the heap reaching its working size).
    await issueUntil(3000);

    const subscribers = await Promise.all(Array.from({ length: 64 }, () => stalledSubscriber(daemon.socket)));
    expect(subscribers.every((s) => s.status === 200)).toBe(true);
    const extra = await stalledSubscriber(daemon.socket);
    expect(extra.status).toBe(503);
    extra.conn.destroy();

    const rssBefore = daemon.rssMb();
    // ~700 KB of events per subscriber: well past its socket buffers and the daemon's limit.
    await issueUntil(6500);
    // A subscriber that fell behind and reads again finds, last, an event saying why it was dropped.
    const first = subscribers[0]!;
    let text = '';
    first.conn.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    first.conn.resume();
    await waitFor(() => first.closed(), 'the first subscriber to reach the end of its stream', 10_000);
    expect(text.slice(text.lastIndexOf('event: '))).toMatch(/^event: Dropped\ndata: .*fell behind/);

    await issueUntil(9000);
    client.close();
    const rssAfter = daemon.rssMb();
    console.log(
      `event stream: 64 stalled subscribers, 6,000 leases issued after 3,000 without: daemon RSS ${rssBefore} → ${rssAfter} MiB`,
    );
    expect(rssAfter - rssBefore).toBeLessThan(100);
    // The others, which never read again, are cut off after a grace period: their places free up.
    const late = await waitFor(
      async () => {
        const s = await stalledSubscriber(daemon.socket);
        if (s.status === 200) return s;
        s.conn.destroy();
        return undefined;
      },
      'the stalled subscribers to be cut off, freeing their places',
      30_000,
    );
    late.conn.destroy();
    for (const s of subscribers) s.conn.destroy();
  }, 120_000);
});
