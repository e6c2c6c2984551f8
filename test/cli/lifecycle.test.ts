import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonClient } from '../../daemon/client/client';
import { BellaError } from '../../daemon/api/errors';
import { BellaSandbox, oneErrorLine, waitFor } from '../helpers/cli';

interface LeaseJson {
  id: string;
  issuedAt: string;
  expiresAt: string;
  status: string;
  renewals: number;
}
interface IssuedJson {
  lease: LeaseJson;
  token: string;
  capped: { requestedSeconds: number; policySeconds: number } | null;
}

const H = 3600_000;

describe('lease lifecycle through the CLI', { timeout: 120_000 }, () => {
  let b: BellaSandbox;

  async function issue(env: string, ...extra: string[]): Promise<IssuedJson> {
    return b.json<IssuedJson>([
      'leases',
      'issue',
      '-p',
      'acme',
      '-e',
      env,
      '--scope',
      'API_*',
      '--reason',
      'test',
      ...extra,
    ]);
  }
  async function reads(token: string): Promise<boolean> {
    const res = await b.run(['secrets', 'get', 'API_KEY', '--token', token]);
    if (res.code === 0) return true;
    expect(res.code).toBe(1);
    oneErrorLine(res);
    return false;
  }
  async function show(id: string): Promise<LeaseJson> {
    return (await b.json<{ lease: LeaseJson }>(['leases', 'show', id])).lease;
  }

  beforeAll(async () => {
    b = new BellaSandbox();
    await b.ok(['projects', 'create', '--name', 'Acme', '--slug', 'acme']);
    for (const env of ['prod', 'staging', 'policy', 'short']) {
      await b.ok(['environments', 'create', '-p', 'acme', '--name', env, '--slug', env]);
      await b.ok(['secrets', 'set', 'API_KEY', `key-of-${env}`, '-p', 'acme', '-e', env]);
    }
  }, 120_000);
  afterAll(() => b?.stop(), 60_000);

  it('revoke: the very next request with the token is refused', async () => {
    const { lease, token } = await issue('prod', '--ttl', '1h');
    expect(await reads(token)).toBe(true);
    await b.ok(['leases', 'revoke', lease.id, '--reason', 'done']);
    const res = await b.run(['secrets', 'get', 'API_KEY', '--token', token]);
    expect(res.code).toBe(1);
    expect(oneErrorLine(res)).toMatch(/revoked/i);
    expect((await show(lease.id)).status).toBe('revoked');
    const again = await b.run(['leases', 'renew', lease.id]);
    expect(again.code).toBe(1);
    oneErrorLine(again);
  });

  it('expire-all: every active lease of the environment refused, others untouched, new ones work', async () => {
    const prodA = await issue('prod', '--ttl', '1h');
    const prodB = await issue('prod', '--ttl', '2h');
    const staging = await issue('staging', '--ttl', '1h');
    const res = await b.json<{ revoked: number; reencryptedSecrets: number }>([
      'leases',
      'expire-all',
      '--project',
      'acme',
      '--environment',
      'prod',
    ]);
    expect(res.revoked).toBe(2);
    expect(await reads(prodA.token)).toBe(false);
    expect(await reads(prodB.token)).toBe(false);
    expect(await reads(staging.token)).toBe(true);
    const fresh = await issue('prod', '--ttl', '1h');
    expect(await reads(fresh.token)).toBe(true);
    // Old tokens stay dead: nothing re-enables a lease minted before the rotation.
    expect(await reads(prodA.token)).toBe(false);
    const renew = await b.run(['leases', 'renew', prodA.lease.id]);
    expect(renew.code).toBe(1);
    expect(await reads(prodA.token)).toBe(false);
    const { leases } = await b.json<{ leases: LeaseJson[] }>(['leases', 'list', '-p', 'acme', '-e', 'prod']);
    expect(leases.map((l) => l.id)).toEqual([fresh.lease.id]);
  });

  it('policy 24h/2h: default ttl, capped requests, capped existing leases, renew rules', async () => {
    const week = await issue('policy', '--ttl', '7d');
    expect(Date.parse(week.lease.expiresAt) - Date.parse(week.lease.issuedAt)).toBe(7 * 24 * H);

    const set = await b.json<{ cappedLeases: number }>([
      'environments',
      'set-lease-policy',
      '--project',
      'acme',
      '--environment',
      'policy',
      '--ttl',
      '24h',
      '--warn-before',
      '2h',
    ]);
    expect(set.cappedLeases).toBe(1);
    const capped = await show(week.lease.id);
    expect(Math.abs(Date.parse(capped.expiresAt) - (Date.now() + 24 * H))).toBeLessThan(60_000);

    const plain = await issue('policy');
    expect(Date.parse(plain.lease.expiresAt) - Date.parse(plain.lease.issuedAt)).toBe(24 * H);
    expect(plain.capped).toBeNull();

    const long = await b.run([
      'leases',
      'issue',
      '-p',
      'acme',
      '-e',
      'policy',
      '--scope',
      'API_KEY',
      '--ttl',
      '48h',
      '--reason',
      'too long',
    ]);
    expect(long.code, long.stderr).toBe(0);
    expect(long.stdout).toMatch(/^bax-\S+\n$/);
    expect(long.stderr).toContain('ttl 48h capped to 24h by the lease policy of acme/policy');

    const short = await issue('policy', '--ttl', '1h');
    const renewedDefault = await b.json<{ lease: LeaseJson; capped: unknown }>(['leases', 'renew', short.lease.id]);
    expect(Math.abs(Date.parse(renewedDefault.lease.expiresAt) - (Date.now() + 24 * H))).toBeLessThan(60_000);
    expect(renewedDefault.lease.renewals).toBe(1);
    const renewedShort = await b.json<{ lease: LeaseJson }>(['leases', 'renew', short.lease.id, '--ttl', '30m']);
    expect(Math.abs(Date.parse(renewedShort.lease.expiresAt) - (Date.now() + 0.5 * H))).toBeLessThan(60_000);
    const renewedLong = await b.run(['leases', 'renew', short.lease.id, '--ttl', '48h']);
    expect(renewedLong.code, renewedLong.stderr).toBe(0);
    expect(renewedLong.stdout).toContain('ttl 48h capped to 24h by the lease policy of acme/policy');
    expect(Math.abs(Date.parse((await show(short.lease.id)).expiresAt) - (Date.now() + 24 * H))).toBeLessThan(60_000);

    const bad = await b.run([
      'environments',
      'set-lease-policy',
      '-p',
      'acme',
      '-e',
      'policy',
      '--ttl',
      '1h',
      '--warn-before',
      '2h',
    ]);
    // warn-before < ttl is the daemon's rule (checked once, there): a refused request, exit 1.
    expect(bad.code).toBe(1);
    expect(oneErrorLine(bad)).toMatch(/warn-before .*2h.* must be shorter than .*1h/);

    await b.ok(['environments', 'clear-lease-policy', '-p', 'acme', '-e', 'policy']);
    const after = await b.json<{ policy: unknown }>(['environments', 'get-lease-policy', '-p', 'acme', '-e', 'policy']);
    expect(after.policy).toBeNull();
  });

  it('a 2-second lease is accepted before its expiry and refused from then on', async () => {
    const { lease, token } = await issue('short', '--ttl', '2s');
    const expiresAt = Date.parse(lease.expiresAt);
    expect(expiresAt - Date.parse(lease.issuedAt)).toBe(2000);
    // Before: read in-process (milliseconds), so a slow CLI start cannot cross the expiry.
    const client = new DaemonClient({ socketPath: b.socket });
    try {
      const sentAt = Date.now();
      const before = await client.call('readSecrets', {}, { token });
      expect(sentAt).toBeLessThan(expiresAt);
      expect(before.secrets).toEqual({ API_KEY: 'key-of-short' });
    } finally {
      client.close();
    }
    // After: poll through the CLI until refused; it must be refused as expired, never before expiry.
    const refusedAt = await waitFor(
      async () => {
        const started = Date.now();
        const res = await b.run(['secrets', 'get', 'API_KEY', '--token', token]);
        if (res.code === 0) {
          expect(started).toBeLessThan(expiresAt);
          return 0;
        }
        expect(oneErrorLine(res)).toMatch(/expired/i);
        return Date.now();
      },
      'the 2-second lease to be refused',
      15_000,
    );
    expect(refusedAt).toBeGreaterThanOrEqual(expiresAt);
    const direct = new DaemonClient({ socketPath: b.socket });
    try {
      const err = await direct.call('readSecrets', {}, { token }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BellaError);
      expect((err as BellaError).code).toBe('token_expired');
      expect((err as BellaError).message).toMatch(/ask for a new lease/);
    } finally {
      direct.close();
    }
    await waitFor(async () => (await show(lease.id)).status === 'expired', 'the lease to show as expired');
    // The advice holds: an expired lease cannot be renewed.
    const renew = await b.run(['leases', 'renew', lease.id]);
    expect(renew.code).toBe(1);
    expect(oneErrorLine(renew)).toMatch(/cannot be renewed: issue a new lease/);
  }, 60_000);
});
