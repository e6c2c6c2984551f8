import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BellaError } from '../../daemon/api';
import { fillDisk, mountTmpfs } from './disk';
import { restartDaemon, seed, startIn, tempPlace, type DaemonHandle } from '../helpers/daemon';

async function expectUnavailable(promise: Promise<unknown>): Promise<BellaError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BellaError);
  const be = err as BellaError;
  expect(be.code).toBe('unavailable');
  expect(be.message).toMatch(/ENOSPC|disk is full|no space/i);
  return be;
}

describe('full disk: the data directory on a small tmpfs', () => {
  const place = tempPlace('bella-disk', { logInHome: true });
  let unmount = () => undefined as void;
  let daemon: DaemonHandle;

  beforeAll(async () => {
    unmount = mountTmpfs(place.home, '4m');
    daemon = await startIn(place);
  });
  afterAll(async () => {
    await daemon?.stop();
    unmount();
    place.cleanup();
  });

  it('refuses writes with unavailable, keeps the state file byte-identical, loses nothing, recovers by itself', async () => {
    const { client } = daemon;
    const { project, environment } = await seed(client);
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) {
      const out = await client.call('issueLease', { project, environment, scope: ['API_KEY'], reason: `before ${i}` });
      acked.push(out.lease.id);
    }
    await client.call('setSecret', { project, environment, key: 'BEFORE', value: 'kept' });
    const stateFile = path.join(place.home, 'state.json');
    const before = fs.readFileSync(stateFile);

    const fillers = fillDisk(place.home);
    // Every kind of write is refused with a clear unavailable error while the disk is full.
    const errors = [
      await expectUnavailable(
        client.call('setSecret', { project, environment, key: 'DURING', value: 'x'.repeat(5000) }),
      ),
      await expectUnavailable(
        client.call('issueLease', { project, environment, scope: ['API_KEY'], reason: 'during' }),
      ),
      await expectUnavailable(client.call('revokeLease', { id: acked[0]! })),
      await expectUnavailable(client.call('createProject', { slug: 'during', name: 'During' })),
    ];
    // Concurrent writes on a full disk fail alike (and share whatever commit they were part of).
    const burst = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        client.call('setSecret', { project, environment, key: `BURST_${i}`, value: 'y'.repeat(2000) }),
      ),
    );
    for (const r of burst) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(BellaError);
      expect(((r as PromiseRejectedResult).reason as BellaError).code).toBe('unavailable');
    }
    console.log(`full disk: first refusal says: ${errors[0]!.message}`);
    expect(fs.readFileSync(stateFile).equals(before)).toBe(true);
    // The daemon is alive and the refused changes are not visible in memory either.
    const status = await client.call('status', {});
    expect(status.counts.activeLeases).toBe(20);
    const keys = (await client.call('listSecrets', { project, environment })).secrets.map((s) => s.key);
    expect(keys).not.toContain('DURING');
    expect(keys).toContain('BEFORE');

    // Space comes back: the very same daemon accepts writes again, no restart.
    for (const f of fillers) fs.rmSync(f);
    await client.call('setSecret', { project, environment, key: 'AFTER', value: 'recovered' });
    const after = await client.call('issueLease', { project, environment, scope: ['API_KEY'], reason: 'after' });
    await client.call('revokeLease', { id: acked[0]! });
    expect((await client.call('verifyAudit', {})).ok).toBe(true);
    // Audit entries written for changes whose state commit then failed (the log is written first).
    const phantom = (await client.call('listAudit', { event: 'SecretSet' })).entries.filter((e) =>
      e.keys?.some((k) => k === 'DURING' || k.startsWith('BURST_')),
    );
    console.log(`full disk: ${phantom.length} audit entries describe refused writes as done`);

    // Nothing acknowledged was lost, before or after the full disk, across a restart.
    daemon = await restartDaemon(await stopped(daemon));
    const leases = await daemon.client.call('listLeases', { all: true });
    const ids = new Set(leases.leases.map((l) => l.id));
    for (const id of [...acked, after.lease.id]) expect(ids.has(id)).toBe(true);
    expect(leases.leases.find((l) => l.id === acked[0])?.status).toBe('revoked');
    const secrets = await daemon.client.call('listSecrets', { project, environment, reveal: true });
    const values = Object.fromEntries(secrets.secrets.map((s) => [s.key, s.value]));
    expect(values.BEFORE).toBe('kept');
    expect(values.AFTER).toBe('recovered');
    expect(values.DURING).toBeUndefined();
    expect((await daemon.client.call('verifyAudit', {})).ok).toBe(true);
  }, 120_000);
});

async function stopped(daemon: DaemonHandle): Promise<DaemonHandle> {
  await daemon.stop();
  return daemon;
}
