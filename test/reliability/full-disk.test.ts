import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BellaError } from '../../daemon/api';
import { fillDisk, fillDiskUntil, freeBytes, mountTmpfs } from './disk';
import { restartDaemon, seed, startIn, tempPlace, type DaemonHandle, tokenRead } from '../helpers/daemon';

async function expectUnavailable(promise: Promise<unknown>): Promise<BellaError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BellaError);
  const be = err as BellaError;
  expect(be.code).toBe('unavailable');
  expect(be.message).toMatch(/ENOSPC|disk .* full|no space/i);
  return be;
}

const read = (socket: string, token: string) => tokenRead(socket, token);

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

  it('nearly full: growth is refused, a leaked token can still be revoked and expire-all still rotates', async () => {
    const { client, socket } = daemon;
    const { project, environment } = await seed(client);
    await client.call('createEnvironment', { project, slug: 'staging', name: 'staging' });
    await client.call('importSecrets', { project, environment: 'staging', dotenv: 'API_KEY=s\n' });
    const acked: Array<{ id: string; token: string }> = [];
    for (let i = 0; i < 20; i++) {
      const out = await client.call('issueLease', { project, environment, scope: ['API_KEY'], reason: `before ${i}` });
      acked.push({ id: out.lease.id, token: out.token });
    }
    const staging = await client.call('issueLease', {
      project,
      environment: 'staging',
      scope: ['API_KEY'],
      reason: 's',
    });
    await client.call('setSecret', { project, environment, key: 'BEFORE', value: 'kept' });
    const snapshot = ['state.snapshot', 'state.json']
      .map((f) => path.join(place.home, f))
      .find((f) => fs.existsSync(f))!;
    const before = fs.readFileSync(snapshot);

    // Leave ~700 KiB: less than growth needs, more than the reserve kept for revocations.
    const filler = fillDiskUntil(place.home, 700 * 1024);
    const refusal = await expectUnavailable(
      client.call('setSecret', { project, environment, key: 'DURING', value: 'x'.repeat(5000) }),
    );
    await expectUnavailable(client.call('issueLease', { project, environment, scope: ['API_KEY'], reason: 'during' }));
    await expectUnavailable(client.call('createProject', { slug: 'during', name: 'During' }));
    console.log(`nearly full disk: a growth write is refused with: ${refusal.message}`);
    expect((await client.call('status', {})).problems.join(' ')).toMatch(/nearly full/);

    // The leaked token still reads (reads stop only at the last reserve), and can be stopped.
    const leaked = acked[0]!;
    expect((await read(socket, leaked.token)).status).toBe(200);
    const revoked = await client.call('revokeLease', { id: leaked.id });
    expect(revoked.lease.status).toBe('revoked');
    const after = await read(socket, leaked.token);
    expect([after.status, JSON.parse(after.body).error.code]).toEqual([401, 'token_revoked']);
    const all = await client.call('expireAll', { project, environment: 'staging' });
    expect(all.revoked).toBe(1);
    expect((await read(socket, staging.token)).status).toBe(401);

    // Completely full: even revocations may fail, so token reads fail closed too.
    const rest = fillDisk(place.home);
    expect(freeBytes(place.home)).toBeLessThan(64 * 1024);
    const closed = await read(socket, acked[1]!.token);
    expect([closed.status, JSON.parse(closed.body).error.code]).toEqual([503, 'unavailable']);
    expect(closed.body).not.toContain('k-1');

    // Nothing refused reached memory or the trail.
    const keys = (await client.call('listSecrets', { project, environment })).secrets.map((s) => s.key);
    expect(keys).not.toContain('DURING');
    expect(fs.readFileSync(snapshot).equals(before)).toBe(true);

    // Space comes back: the same daemon accepts writes again, no restart.
    for (const f of [filler, ...rest]) fs.rmSync(f);
    await client.call('setSecret', { project, environment, key: 'AFTER', value: 'recovered' });
    const later = await client.call('issueLease', { project, environment, scope: ['API_KEY'], reason: 'after' });
    expect((await read(socket, later.token)).status).toBe(200);
    const phantom = (await client.call('listAudit', { event: 'SecretSet', limit: 1000 })).entries.filter((e) =>
      e.keys?.includes('DURING'),
    );
    expect(phantom).toEqual([]);
    expect((await client.call('verifyAudit', {})).ok).toBe(true);

    // Nothing acknowledged was lost, across a restart.
    await daemon.stop();
    daemon = await restartDaemon(daemon);
    const leases = await daemon.client.call('listLeases', { all: true, limit: 1000 });
    const status = new Map(leases.leases.map((l) => [l.id, l.status]));
    for (const { id } of acked) expect(status.has(id)).toBe(true);
    expect(status.get(leaked.id)).toBe('revoked');
    expect(status.get(staging.lease.id)).toBe('revoked');
    expect(status.get(later.lease.id)).toBe('active');
    const secrets = await daemon.client.call('listSecrets', { project, environment, reveal: true });
    const values = Object.fromEntries(secrets.secrets.map((s) => [s.key, s.value]));
    expect(values).toMatchObject({ BEFORE: 'kept', AFTER: 'recovered' });
    expect(values.DURING).toBeUndefined();
    expect((await daemon.client.call('verifyAudit', {})).ok).toBe(true);
  }, 120_000);
});
