import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BellaError } from '../../daemon/api';
import { DaemonClient } from '../../daemon/client';
import { cliScript, restartDaemon, seed, startIn, tempPlace, type DaemonHandle } from '../helpers/daemon';

const ROUNDS = Number(process.env.BELLA_CRASH_ROUNDS ?? 20);
const OPS = 1000;

type Op = { kind: 'issue' } | { kind: 'revoke'; id: string } | { kind: 'secret'; key: string; value: string };

async function inParallel<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

describe('crash consistency: kill -9 during concurrent writes', () => {
  const place = tempPlace('bella-crash');
  let daemon: DaemonHandle;

  beforeAll(async () => {
    daemon = await startIn(place);
  });
  afterAll(async () => {
    await daemon?.stop();
    place.cleanup();
  });

  it(`loses no acknowledged operation over ${ROUNDS} rounds of ${OPS} concurrent operations`, async () => {
    const { project, environment } = await seed(daemon.client);
    // The leases' scope has a glob over the keys this test writes: one must exist before the first issue.
    await daemon.client.call('setSecret', { project, environment, key: 'K_0', value: 'seed' });
    const issued = new Set<string>();
    const revoked = new Set<string>();
    const secrets = new Map<string, string>();
    // Leases that may be revoked this round: acknowledged, active, no revoke ever attempted.
    let revocable: string[] = [];
    for (let i = 0; i < 300; i++) {
      const out = await daemon.client.call('issueLease', {
        project,
        environment,
        scope: ['API_KEY'],
        ttlSeconds: 86_400,
        reason: `crash seed ${i}`,
      });
      issued.add(out.lease.id);
      revocable.push(out.lease.id);
    }
    const totals = { attempted: 0, acknowledged: 0, unacknowledged: 0, issues: 0, revokes: 0, secretWrites: 0 };

    for (let round = 1; round <= ROUNDS; round++) {
      const targets = shuffle(revocable).slice(0, 250);
      revocable = revocable.filter((id) => !targets.includes(id));
      const ops: Op[] = shuffle([
        ...Array.from({ length: OPS - targets.length - 300 }, () => ({ kind: 'issue' }) as Op),
        ...targets.map((id) => ({ kind: 'revoke', id }) as Op),
        ...Array.from(
          { length: 300 },
          (_, i) => ({ kind: 'secret', key: `K_${round}_${i}`, value: `v-${round}-${i}-${Math.random()}` }) as Op,
        ),
      ]);
      // Kill after a random number of acknowledgements: always mid-flight, anywhere in the batch.
      const killAfter = Math.floor(Math.random() * (OPS - 50));
      const client = new DaemonClient({ socketPath: daemon.socket, timeoutMs: 60_000 });
      let acks = 0;
      let killed = false;
      const unexpected: string[] = [];
      const ack = () => {
        acks++;
        totals.acknowledged++;
        if (!killed && acks >= killAfter) {
          killed = true;
          daemon.proc.kill('SIGKILL');
        }
      };
      // All 1,000 are queued at once; 200 connections carry them (the listen backlog is finite).
      await inParallel(ops, 200, async (op) => {
        totals.attempted++;
        try {
          if (op.kind === 'issue') {
            const out = await client.call('issueLease', {
              project,
              environment,
              scope: ['API_KEY', 'K_*'],
              ttlSeconds: 86_400,
              reason: `crash round ${round}`,
            });
            issued.add(out.lease.id);
            if (!killed) revocable.push(out.lease.id);
            totals.issues++;
          } else if (op.kind === 'revoke') {
            await client.call('revokeLease', { id: op.id, reason: `crash round ${round}` });
            revoked.add(op.id);
            totals.revokes++;
          } else {
            await client.call('setSecret', { project, environment, key: op.key, value: op.value });
            secrets.set(op.key, op.value);
            totals.secretWrites++;
          }
          ack();
        } catch (err) {
          totals.unacknowledged++;
          // Before the kill nothing may fail; after it, only "daemon gone" failures are expected.
          if (!killed || !(err instanceof BellaError && err.code === 'unavailable')) {
            unexpected.push(`${op.kind}: ${(err as Error).message}`);
          }
        }
      });
      client.close();
      expect(unexpected).toEqual([]);
      if (!killed) daemon.proc.kill('SIGKILL');
      await daemon.exited;

      // The restarted daemon validated every record of the snapshot, journal and trail, and
      // found nothing missing between them.
      daemon = await restartDaemon(daemon);
      expect((await daemon.client.call('status', {})).problems).toEqual([]);
      // Every acknowledged operation is in the state the restarted daemon loaded.
      const leases = await daemon.client.call('listLeases', { project, environment, all: true, limit: 10_000 });
      const status = new Map(leases.leases.map((l) => [l.id, l.status]));
      const keys = await daemon.client.call('listSecrets', { project, environment });
      const stored = new Set(keys.secrets.map((s) => s.key));
      const missing: string[] = [];
      for (const id of issued) {
        if (!status.has(id)) missing.push(`lease ${id}`);
        else if (revoked.has(id) && status.get(id) !== 'revoked') missing.push(`revocation of ${id}`);
      }
      for (const key of secrets.keys()) if (!stored.has(key)) missing.push(`secret ${key}`);
      expect(missing).toEqual([]);
      // Values decrypt to exactly what was acknowledged (checked through the daemon, in one call).
      const listed = await daemon.client.call('listSecrets', { project, environment, reveal: true });
      const values = new Map(listed.secrets.map((s) => [s.key, s.value]));
      for (const [key, value] of secrets) if (values.get(key) !== value) missing.push(`value of ${key}`);
      expect(missing).toEqual([]);
      // bella audit verify passes, through the real CLI.
      const verify = execFileSync(process.execPath, [cliScript, 'audit', 'verify'], {
        env: { ...process.env, BELLA_HOME: place.home, BELLA_SOCKET: place.socket },
        encoding: 'utf8',
      });
      expect(verify).toMatch(/audit log intact: \d+ entries/);
    }
    const audit = await daemon.client.call('verifyAudit', {});
    expect(audit.ok).toBe(true);
    console.log(
      `crash consistency: ${ROUNDS} kill -9 rounds, ${totals.attempted} operations attempted, ` +
        `${totals.acknowledged} acknowledged (${totals.issues} issues, ${totals.revokes} revokes, ` +
        `${totals.secretWrites} secret writes), ${totals.unacknowledged} cut off by the kill; ` +
        `all acknowledged present after restart: ${issued.size} leases, ${revoked.size} revocations, ` +
        `${secrets.size} secrets; audit chain of ${audit.entries} entries verifies`,
    );
  }, 900_000);
});
