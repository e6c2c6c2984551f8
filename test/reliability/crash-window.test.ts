import http from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { BellaError } from '../../daemon/api';
import { DaemonClient } from '../../daemon/client';
import fs from 'node:fs';
import { restartDaemon, startIn, tempPlace, tokenRead, type DaemonHandle, type DaemonPlace } from '../helpers/daemon';
import { auditBytes, journalFile } from './files';
import { toDotenv } from '../../daemon/cli/secret-formats';

const places: DaemonPlace[] = [];
afterAll(() => {
  for (const p of places.splice(0)) p.cleanup();
});

const read = (socket: string, token: string, agent?: http.Agent) => tokenRead(socket, token, { agent });

/** Kills the daemon with -9 the moment `size()` grows past what it is now. */
function killWhenGrows(daemon: DaemonHandle, size: () => number): Promise<void> {
  const start = size();
  return new Promise((resolve) => {
    const poll = () => {
      if (size() > start || daemon.proc.exitCode !== null) {
        daemon.proc.kill('SIGKILL');
        resolve();
      } else setImmediate(poll);
    };
    poll();
  });
}

async function inParallel<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

describe('crash between the writes of one change: the trail never claims what the state lacks', () => {
  it('5. kill -9 as expire-all (500 secrets, 1,000 leases) reaches the journal or the trail', async () => {
    const place = tempPlace('bella-window');
    places.push(place);
    let daemon = await startIn(place);
    const project = 'app';
    await daemon.client.call('createProject', { slug: project, name: project });
    const values = Object.fromEntries(
      Array.from({ length: 500 }, (_, i) => [`S_${i}`, `value-${i}-${'x'.repeat(40)}`]),
    );
    const outcomes: string[] = [];
    for (let round = 0; round < 4; round++) {
      const environment = `e${round}`;
      await daemon.client.call('createEnvironment', { project, slug: environment, name: environment });
      await daemon.client.call('importSecrets', { project, environment, dotenv: toDotenv(values) });
      const tokens: string[] = [];
      await inParallel(
        Array.from({ length: 1000 }, (_, i) => i),
        32,
        async (i) => {
          const out = await daemon.client.call('issueLease', {
            project,
            environment,
            scope: ['S_*'],
            reason: `window ${i}`,
            ttlSeconds: 3600,
          });
          tokens.push(out.token);
        },
      );
      // Alternate the moment: as the trail grows, then as the journal grows (mid-commit).
      const grows = round % 2 === 0 ? () => auditBytes(place.home) : () => fs.statSync(journalFile(place.home)).size;
      const killed = killWhenGrows(daemon, grows);
      const client = new DaemonClient({ socketPath: daemon.socket, timeoutMs: 60_000 });
      const answer = client.call('expireAll', { project, environment }).then(
        () => 'acknowledged',
        (err: unknown) => (err instanceof BellaError ? err.code : String(err)),
      );
      await killed;
      const acknowledged = (await answer) === 'acknowledged';
      client.close();
      daemon = await restartDaemon(daemon);

      // What the trail says happened, the state has, and the other way round.
      const said = await daemon.client.call('listAudit', { project, environment, event: 'LeasesExpiredAll' });
      const env = (await daemon.client.call('listEnvironments', { project })).environments.find(
        (e) => e.slug === environment,
      )!;
      const revokedEntries = await daemon.client.call('listAudit', {
        project,
        environment,
        event: 'LeaseRevoked',
        limit: 1000,
      });
      const rotated = env.rotatedAt !== null;
      expect(said.entries.length === 1).toBe(rotated);
      expect(revokedEntries.entries.length).toBe(rotated ? 1000 : 0);
      if (acknowledged) expect(rotated).toBe(true);
      outcomes.push(`${round % 2 === 0 ? 'trail' : 'journal'} grew: ${rotated ? 'applied' : 'not applied'}`);
      // Old tokens: all refused once rotated, all still working otherwise (sampled).
      const agent = new http.Agent({ keepAlive: true });
      for (const token of tokens.slice(0, 50)) {
        expect((await read(daemon.socket, token, agent)).status).toBe(rotated ? 401 : 200);
      }
      agent.destroy();
      // Every secret still decrypts to its value.
      const listed = await daemon.client.call('listSecrets', { project, environment, reveal: true });
      expect(Object.fromEntries(listed.secrets.map((s) => [s.key, s.value]))).toEqual(values);
      expect((await daemon.client.call('verifyAudit', {})).ok).toBe(true);
      expect((await daemon.client.call('status', {})).problems).toEqual([]);
    }
    console.log(`crash window: ${outcomes.join('; ')}`);
    await daemon.stop();
  }, 300_000);
});

describe('crash suite: kill -9 inside expire-all, snapshot rewrites and segment rotation', () => {
  it('after every restart: acknowledged changes present, secrets decrypt, verify passes', async () => {
    const place = tempPlace('bella-crash2');
    places.push(place);
    // Small segments and journals: rotation and compaction happen many times a second.
    const env = { BELLA_AUDIT_SEGMENT_BYTES: String(16 * 1024), BELLA_JOURNAL_COMPACT_BYTES: String(64 * 1024) };
    let daemon = await startIn(place, { env });
    const project = 'app';
    await daemon.client.call('createProject', { slug: project, name: project });
    await daemon.client.call('createEnvironment', { project, slug: 'prod', name: 'prod' });
    const secrets = new Map<string, string>();
    const revoked = new Set<string>();
    const active = new Map<string, string>();
    await daemon.client.call('setSecret', { project, environment: 'prod', key: 'BASE', value: 'base' });
    secrets.set('BASE', 'base');
    const rounds = Number(process.env.BELLA_CRASH_ROUNDS ?? 10);
    for (let round = 0; round < rounds; round++) {
      const client = new DaemonClient({ socketPath: daemon.socket, timeoutMs: 60_000 });
      const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
      let stop = false;
      const worker = async (w: number) => {
        for (let i = 0; !stop; i++) {
          const pick = (w + i) % 5;
          try {
            if (pick === 0) {
              const key = `K_${round}_${w}_${i}`;
              const value = `v-${round}-${w}-${i}`;
              await client.call('setSecret', { project, environment: 'prod', key, value });
              secrets.set(key, value);
            } else if (pick === 1) {
              const out = await client.call('issueLease', {
                project,
                environment: 'prod',
                scope: ['BASE'],
                reason: `r${round}`,
                ttlSeconds: 3600,
              });
              active.set(out.lease.id, out.token);
            } else if (pick === 2 && active.size) {
              const id = active.keys().next().value as string;
              active.delete(id);
              await client.call('revokeLease', { id });
              revoked.add(id);
            } else if (pick === 3 && w === 0 && i % 7 === 3) {
              // Leases acknowledged before the request was sent must all be ended by it.
              const before = [...active.keys()];
              await client.call('expireAll', { project, environment: 'prod' });
              for (const id of before) {
                revoked.add(id);
                active.delete(id);
              }
            } else {
              const token = [...active.values()].at(-1);
              if (token) await read(daemon.socket, token, agent);
            }
          } catch {
            if (stop) return; // cut off by the kill: not acknowledged
          }
        }
      };
      const workers = Array.from({ length: 8 }, (_, w) => worker(w));
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 600));
      daemon.proc.kill('SIGKILL');
      stop = true;
      await Promise.all(workers);
      client.close();
      agent.destroy();
      daemon = await restartDaemon(daemon, { env });

      const listed = await daemon.client.call('listSecrets', { project, environment: 'prod', reveal: true });
      const values = new Map(listed.secrets.map((s) => [s.key, s.value]));
      const missing: string[] = [];
      for (const [key, value] of secrets) if (values.get(key) !== value) missing.push(`secret ${key}`);
      for (const id of revoked) {
        const lease = await daemon.client.call('getLease', { id }).catch(() => null);
        if (lease && lease.lease.status === 'active') missing.push(`revocation of ${id}`);
      }
      for (const id of active.keys()) {
        const lease = await daemon.client.call('getLease', { id }).catch(() => null);
        if (!lease) missing.push(`lease ${id}`);
      }
      expect(missing).toEqual([]);
      const verified = await daemon.client.call('verifyAudit', {});
      expect(verified.firstBroken).toBeNull();
      expect((await daemon.client.call('status', {})).problems).toEqual([]);
    }
    await daemon.stop();
  }, 600_000);
});
