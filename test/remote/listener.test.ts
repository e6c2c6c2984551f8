import https from 'node:https';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { operations, pathParams, type OperationName } from '../../daemon/api';
import { RemoteClient } from '../../daemon/client/remote';
import { seed } from '../helpers/daemon';
import { daemonPool } from '../helpers/pool';
import { auditBytes } from '../reliability/files';

const pool = daemonPool('bella-listener');

/** One HTTPS exchange with the listener (the probe does not pin: it tests the server). */
function probe(port: number, method: string, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, method, path, headers, rejectUnauthorized: false, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(method === 'GET' || method === 'DELETE' ? undefined : '{}');
  });
}

/** Whether anything accepts a TCP connection on 127.0.0.1:`port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('the TLS listener serves the token plane only, and only once enabled', () => {
  it('is opt-in, serves no admin route and no event stream, survives a restart with its fingerprint', async () => {
    const { daemon } = await pool.start();
    const { project, environment } = await seed(daemon.client);
    const port = await freePort();
    expect(await listening(port)).toBe(false);
    const status = (await daemon.client.call('getListener', {})).listener;
    expect(status).toMatchObject({ enabled: false, listening: [], fingerprint: null });

    const enabled = (await daemon.client.call('enableListener', { address: `127.0.0.1:${port}` })).listener;
    expect(enabled.enabled).toBe(true);
    expect(enabled.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(enabled.urls).toEqual([`https://127.0.0.1:${port}`]);
    expect(await listening(port)).toBe(true);

    // Every admin operation of the contract, and the event stream, is simply not there.
    const admin = (Object.keys(operations) as OperationName[]).filter((n) => operations[n].plane === 'admin');
    expect(admin.length).toBeGreaterThan(20);
    for (const name of admin) {
      const spec = operations[name];
      let path = spec.path;
      for (const p of pathParams(spec.path)) path = path.replace(`:${p}`, p === 'id' ? 'abcdefghij012345' : 'app');
      const res = await probe(port, spec.method, path);
      expect([name, res.status]).toEqual([name, 404]);
      expect(JSON.parse(res.body).error.code).toBe('not_found');
    }
    expect((await probe(port, 'GET', '/v1/events')).status).toBe(404);

    // The token plane answers, with the source address in the trail.
    const lease = await daemon.client.call('issueLease', {
      project,
      environment,
      scope: ['API_KEY'],
      reason: 'remote',
    });
    expect([lease.server, lease.fingerprint]).toEqual([`https://127.0.0.1:${port}`, enabled.fingerprint]);
    const remote = new RemoteClient({ server: `https://127.0.0.1:${port}`, fingerprint: enabled.fingerprint! });
    expect((await remote.call('readSecrets', {}, { token: lease.token })).secrets).toEqual({ API_KEY: 'k-1' });
    remote.close();
    const read = await daemon.client.call('listAudit', { lease: lease.lease.id, event: 'SecretsRead', limit: 1 });
    expect(read.entries[0]).toMatchObject({ outcome: 'Success', source: '127.0.0.1' });

    // Restarted, it listens again with the same certificate; disabled, nothing listens.
    await daemon.stop();
    const next = await pool.restart(daemon);
    const again = (await next.client.call('getListener', {})).listener;
    expect(again.listening).toEqual([`127.0.0.1:${port}`]);
    expect(again.fingerprint).toBe(enabled.fingerprint);
    await next.client.call('disableListener', {});
    expect(await listening(port)).toBe(false);
    await next.stop();
    const third = await pool.restart(next);
    expect((await third.client.call('getListener', {})).listener.listening).toEqual([]);
    expect(await listening(port)).toBe(false);
  }, 60_000);

  it('answers plain HTTP with no data, and bad tokens past a small rate with 429 and Retry-After', async () => {
    const { place, daemon } = await pool.start();
    await seed(daemon.client);
    const port = await freePort();
    await daemon.client.call('enableListener', { address: `127.0.0.1:${port}` });

    const plain = await new Promise<string>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () =>
        socket.write('GET /v1/secrets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer bax-x\r\n\r\n'),
      );
      let got = '';
      socket.on('data', (d) => (got += d.toString('latin1')));
      socket.on('close', () => resolve(got));
      socket.on('error', () => undefined);
      setTimeout(() => socket.destroy(), 3000).unref();
    });
    expect(plain).not.toMatch(/HTTP\/1\.[01] \d{3}/);
    expect(plain).not.toContain('k-1');

    const before = auditBytes(place.home);
    const statuses = new Map<number, number>();
    let retryAfter: unknown;
    for (let i = 0; i < 200; i++) {
      const res = await probe(port, 'GET', '/v1/secrets', {
        authorization: `Bearer bax-${'a'.repeat(16)}-${'b'.repeat(43)}`,
      });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 429) retryAfter ??= res.headers['retry-after'];
    }
    expect(statuses.get(429)).toBeGreaterThan(150);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    await daemon.stop();
    const grown = auditBytes(place.home) - before;
    console.log(
      `listener: 200 bad tokens from one address: ${JSON.stringify(Object.fromEntries(statuses))}, audit +${grown} bytes`,
    );
    expect(grown).toBeLessThan(20_000);
    const next = await pool.restart(daemon);
    const denied = await next.client.call('listAudit', { outcome: 'Denied', limit: 1000 });
    expect(denied.entries.reduce((n, e) => n + (e.count ?? 1), 0)).toBe(200);
    expect(denied.entries.every((e) => e.source === '127.0.0.1')).toBe(true);
  }, 60_000);
});
