import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BellaError } from '../../daemon/api';
import { DaemonClient } from '../../daemon/client';
import { seed, sleep, startIn, tempPlace, type DaemonHandle } from '../helpers/daemon';

/** Seconds of load: 20 by default (CI), 60 for the issue's full run (BELLA_LOAD_SECONDS=60). */
const SECONDS = Number(process.env.BELLA_LOAD_SECONDS ?? 20);
const CLIENTS = 200;

interface Held {
  id: string;
  token: string;
  /** Set once a revoke was sent: from then on a refusal of this token is expected. */
  revoking: boolean;
}

describe(`load: ${CLIENTS} concurrent clients for ${SECONDS} s`, () => {
  const place = tempPlace('bella-load');
  let daemon: DaemonHandle;

  beforeAll(async () => {
    daemon = await startIn(place);
  });
  afterAll(async () => {
    await daemon?.stop();
    place.cleanup();
  });

  it(
    'mixes reads, issues and revokes with no error but the expected refusals',
    async () => {
      const { project, environment } = await seed(daemon.client);
      const active: Held[] = [];
      const revoked: Held[] = [];
      const issue = async (client: DaemonClient) => {
        const out = await client.call('issueLease', {
          project,
          environment,
          scope: ['API_KEY', 'DB_*'],
          ttlSeconds: 3600,
          reason: 'load',
        });
        active.push({ id: out.lease.id, token: out.token, revoking: false });
      };
      for (let i = 0; i < CLIENTS; i++) await issue(daemon.client);
      const counts = { reads: 0, issues: 0, revokes: 0, expectedRefusals: 0 };
      const errors: string[] = [];
      const fail = (what: string, err: unknown) => {
        if (errors.length < 20) errors.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      };
      const rss = { start: daemon.rssMb(), end: 0, max: 0 };
      rss.max = rss.start;
      const deadline = Date.now() + SECONDS * 1000;
      const sampler = setInterval(() => (rss.max = Math.max(rss.max, daemon.rssMb())), 1000);

      const worker = async () => {
        const client = new DaemonClient({ socketPath: daemon.socket, timeoutMs: 60_000 });
        try {
          while (Date.now() < deadline) {
            const dice = Math.random();
            if (dice < 0.7) {
              // Mostly live tokens; one read in ten replays a revoked one, which must be refused.
              const pool = revoked.length && Math.random() < 0.1 ? revoked : active;
              const lease = pool[Math.floor(Math.random() * pool.length)]!;
              try {
                const out = await client.call('readSecrets', {}, { token: lease.token });
                if (out.leaseId !== lease.id || !out.secrets.API_KEY) fail('read', new Error('wrong answer'));
                counts.reads++;
              } catch (err) {
                // A revoke sent before this answer came back makes the refusal expected.
                if (lease.revoking && err instanceof BellaError && err.code === 'token_revoked')
                  counts.expectedRefusals++;
                else fail(`read of ${lease.id} (revoking: ${lease.revoking})`, err);
              }
            } else if (dice < 0.9) {
              await issue(client).then(
                () => counts.issues++,
                (err) => fail('issue', err),
              );
            } else {
              if (active.length < 2) continue;
              const i = Math.floor(Math.random() * active.length);
              const lease = active[i]!;
              active[i] = active[active.length - 1]!;
              active.pop();
              lease.revoking = true;
              revoked.push(lease);
              await client.call('revokeLease', { id: lease.id }).then(
                () => counts.revokes++,
                (err) => fail('revoke', err),
              );
            }
          }
        } finally {
          client.close();
        }
      };
      await Promise.all(Array.from({ length: CLIENTS }, worker));
      clearInterval(sampler);
      await sleep(200);
      rss.end = daemon.rssMb();
      rss.max = Math.max(rss.max, rss.end);
      expect(errors).toEqual([]);
      expect(counts.reads).toBeGreaterThan(0);
      expect(counts.issues).toBeGreaterThan(0);
      expect(counts.revokes).toBeGreaterThan(0);
      expect((await daemon.client.call('verifyAudit', {})).ok).toBe(true);
      expect(daemon.proc.exitCode).toBeNull();
      console.log(
        `load, mixed: ${CLIENTS} clients for ${SECONDS} s: ${counts.reads} reads, ${counts.issues} issues, ${counts.revokes} revokes, ` +
          `${counts.expectedRefusals} expected refusals (revoked tokens), 0 errors; daemon RSS start ${rss.start} MB, ` +
          `end ${rss.end} MB, max ${rss.max} MB`,
      );
      // Reads only, for half as long: the data no longer grows, so this shows whether serving does.
      const readsUntil = Date.now() + (SECONDS * 1000) / 2;
      const readsStart = daemon.rssMb();
      let readsOnly = 0;
      const reader = async () => {
        const client = new DaemonClient({ socketPath: daemon.socket, timeoutMs: 60_000 });
        try {
          while (Date.now() < readsUntil) {
            const lease = active[Math.floor(Math.random() * active.length)]!;
            await client.call('readSecrets', {}, { token: lease.token }).then(
              () => readsOnly++,
              (err) => fail('reads-only read', err),
            );
          }
        } finally {
          client.close();
        }
      };
      await Promise.all(Array.from({ length: CLIENTS }, reader));
      await sleep(200);
      const readsEnd = daemon.rssMb();
      expect(errors).toEqual([]);
      console.log(
        `load, reads only: ${readsOnly} reads in ${SECONDS / 2} s, daemon RSS ${readsStart} MB -> ${readsEnd} MB`,
      );
    },
    (SECONDS * 1.5 + 120) * 1000,
  );
});
