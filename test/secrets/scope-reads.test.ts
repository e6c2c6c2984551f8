import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restartDaemon, seed, startIn, tempPlace, tokenRead, type DaemonHandle } from '../helpers/daemon';

// Token reads open one sealed blob per scope (daemon/services/sealed-scopes.ts). Through a real
// daemon: every read answers the values stored at that moment, whatever changed in between (set,
// rollback, delete, a subset by ?keys=, a new data key, a restart), and each read is audited.

describe('token reads through sealed scope blobs', () => {
  const place = tempPlace('bella-scope-reads');
  let daemon: DaemonHandle;
  const project = 'app';
  const environment = 'prod';
  const scope = ['API_KEY', 'DB_URL', 'STRIPE_KEY'];

  beforeAll(async () => {
    daemon = await startIn(place);
    await seed(daemon.client, project, environment);
  });
  afterAll(async () => {
    await daemon?.stop();
    place.cleanup();
  });

  const issue = async () =>
    (await daemon.client.call('issueLease', { project, environment, scope, ttlSeconds: 3600, reason: 'scope reads' }))
      .token;
  const read = async (token: string, keys?: string) => {
    const res = await tokenRead(daemon.socket, token, keys ? { keys } : {});
    expect(res.status, res.body).toBe(200);
    return (JSON.parse(res.body) as { secrets: Record<string, string> }).secrets;
  };
  const set = (key: string, value: string) => daemon.client.call('setSecret', { project, environment, key, value });

  it('answers the stored values on every read, after each kind of change', async () => {
    let token = await issue();
    const first = { API_KEY: 'k-1', DB_URL: 'postgres://x', STRIPE_KEY: 'sk_live_1' };
    expect(await read(token)).toEqual(first);
    expect(await read(token)).toEqual(first);

    await set('API_KEY', 'k-2');
    expect(await read(token)).toEqual({ ...first, API_KEY: 'k-2' });
    // A subset is a scope of its own, and the whole scope's blob is not confused with it.
    expect(await read(token, 'STRIPE_KEY,API_KEY')).toEqual({ API_KEY: 'k-2', STRIPE_KEY: 'sk_live_1' });
    expect(await read(token, 'STRIPE_KEY,API_KEY')).toEqual({ API_KEY: 'k-2', STRIPE_KEY: 'sk_live_1' });

    // A rollback re-seals the earlier value: the blob made from k-2 is no longer used.
    await daemon.client.call('rollbackSecret', { project, environment, key: 'API_KEY', to: 1 });
    expect(await read(token)).toEqual(first);

    await daemon.client.call('deleteSecret', { project, environment, key: 'DB_URL' });
    expect(await read(token)).toEqual({ API_KEY: 'k-1', STRIPE_KEY: 'sk_live_1' });
    await set('DB_URL', 'postgres://y');
    expect(await read(token)).toEqual({ ...first, DB_URL: 'postgres://y' });

    // A new data key (expire-all re-seals every value) and a new token: the same values, opened anew.
    await daemon.client.call('expireAll', { project, environment, reason: 'scope reads' });
    expect((await tokenRead(daemon.socket, token)).status).toBe(401);
    token = await issue();
    expect(await read(token)).toEqual({ ...first, DB_URL: 'postgres://y' });
    await set('STRIPE_KEY', 'sk_live_2');
    expect(await read(token)).toEqual({ API_KEY: 'k-1', DB_URL: 'postgres://y', STRIPE_KEY: 'sk_live_2' });

    await daemon.stop();
    daemon = await restartDaemon(daemon);
    expect(await read(token)).toEqual({ API_KEY: 'k-1', DB_URL: 'postgres://y', STRIPE_KEY: 'sk_live_2' });
    expect(await read(token)).toEqual({ API_KEY: 'k-1', DB_URL: 'postgres://y', STRIPE_KEY: 'sk_live_2' });

    // Every successful token read above is in the trail, with the keys it answered.
    const audit = await daemon.client.call('listAudit', { project, environment });
    const reads = audit.entries.filter(
      (e) => e.event === 'SecretsRead' && e.actor === 'token' && e.outcome === 'Success',
    );
    expect(reads).toHaveLength(12);
    expect(reads.at(-1)!.keys).toEqual(['API_KEY', 'DB_URL', 'STRIPE_KEY']);
  });
});
