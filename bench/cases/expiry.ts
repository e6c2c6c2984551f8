import http from 'node:http';
import type { DaemonEvent } from '../../daemon/api';
import { rawRequest, seed, sleep } from '../../test/helpers/daemon';
import { benchDaemon, issueMany, waitFor } from '../lib';

/** Figures of the expiry case, as written to latest.json. */
export interface ExpiryResult {
  leases: number;
  late_accepts: number;
  /** null when no LeaseExpired events arrived (no expiry scheduler in this daemon). */
  max_event_lateness_ms: number | null;
}

/**
 * 1,000 leases with ttls of 1–5 s, read continuously (round-robin readers, plus a probe per lease
 * that reads back to back from just before its expiry until refused). A read is a late accept when
 * it was answered 200 although it was sent at or after the lease's expiresAt: the daemon saw it no
 * earlier than it was sent, so this count is exact, never an artefact of timing.
 */
export async function expiryCase(
  count = 1000,
): Promise<
  ExpiryResult & { reads: number; accepted: number; refused: number; expired_events: number; errors: number }
> {
  const { daemon, place } = await benchDaemon('expiry');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 96 });
  try {
    const { project, environment } = await seed(daemon.client);
    const expiredSeen = new Map<string, number>();
    const stop = await daemon.client.subscribe((event: DaemonEvent) => {
      if (event.type !== 'LeaseExpired') return;
      const now = Date.now();
      for (const id of event.leaseIds) if (!expiredSeen.has(id)) expiredSeen.set(id, now);
    });
    const leases = await issueMany(daemon.client, count, 64, (i) => ({
      project,
      environment,
      scope: ['API_KEY', 'DB_URL', 'STRIPE_KEY'],
      ttlSeconds: 1 + (i % 5),
      reason: `expiry bench ${i}`,
    }));
    let reads = 0;
    let accepted = 0;
    let refused = 0;
    let late = 0;
    let errors = 0;
    const read = async (lease: (typeof leases)[number]): Promise<boolean> => {
      const sentAt = Date.now();
      const res = await rawRequest(
        daemon.socket,
        { method: 'GET', path: '/v1/secrets', headers: { authorization: `Bearer ${lease.token}` } },
        agent,
      );
      reads++;
      if (res.status === 200) {
        accepted++;
        if (sentAt >= lease.expiresAt) late++;
        return true;
      }
      const code = (JSON.parse(res.body) as { error?: { code?: string } }).error?.code;
      if (res.status === 401 && code === 'token_expired') refused++;
      else errors++;
      return false;
    };
    const lastExpiry = Math.max(...leases.map((l) => l.expiresAt));
    let running = true;
    const roundRobin = async (offset: number) => {
      for (let i = offset; running; i += 8) {
        await read(leases[i % leases.length]!);
      }
    };
    const probe = async (lease: (typeof leases)[number]) => {
      await sleep(Math.max(0, lease.expiresAt - 30 - Date.now()));
      while (await read(lease));
      await read(lease);
    };
    const readers = Array.from({ length: 8 }, (_, i) => roundRobin(i));
    await Promise.all(leases.map(probe));
    await sleep(Math.max(0, lastExpiry - Date.now()) + 200);
    running = false;
    await Promise.all(readers);
    await waitFor(() => expiredSeen.size >= leases.length, 5000);
    stop();
    const lateness = leases.filter((l) => expiredSeen.has(l.id)).map((l) => expiredSeen.get(l.id)! - l.expiresAt);
    return {
      leases: leases.length,
      late_accepts: late,
      max_event_lateness_ms: expiredSeen.size === leases.length ? Math.max(...lateness) : null,
      reads,
      accepted,
      refused,
      expired_events: expiredSeen.size,
      errors,
    };
  } finally {
    agent.destroy();
    await daemon.stop();
    place.cleanup();
  }
}
