import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { operations, pathParams, type OperationName } from '../../daemon/api';
import { RemoteClient } from '../../daemon/client/remote';
import { LISTENER_LIMITS } from '../../daemon/server/tls/hardening';
import { cliPath, collect, waitFor } from '../helpers/cli';
import { seed, type DaemonHandle, type DaemonPlace, freePort } from '../helpers/daemon';
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

/** The real CLI as the owner (this place's daemon) or, with `BELLA_SERVER` set, as a holder. */
function bella(place: DaemonPlace, args: string[], env: Record<string, string> = {}, timeoutMs = 20_000) {
  const holderHome = path.join(place.root, 'holder');
  fs.mkdirSync(holderHome, { recursive: true, mode: 0o700 });
  const base = env.BELLA_SERVER
    ? { PATH: process.env.PATH ?? '', HOME: holderHome }
    : { ...process.env, BELLA_HOME: place.home, BELLA_SOCKET: place.socket };
  const child = spawn(process.execPath, [cliPath, ...args], {
    env: { ...base, ...env },
    cwd: place.root,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return collect(child, undefined, timeoutMs);
}

/** Enables the listener on 127.0.0.1 (any free port) and issues a lease on API_KEY; the holder's variables. */
async function listenerWithLease(daemon: DaemonHandle, extra: string[] = [], place?: DaemonPlace) {
  const { project, environment } = await seed(daemon.client);
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  if (place) {
    const res = await bella(place, ['listener', 'enable', '--address', address, ...extra]);
    expect(res.code, res.stderr).toBe(0);
  } else {
    await daemon.client.call('enableListener', { address });
  }
  const { listener } = await daemon.client.call('getListener', {});
  const lease = await daemon.client.call('issueLease', { project, environment, scope: ['API_KEY'], reason: 'remote' });
  const holder = {
    BELLA_SERVER: `https://${address}`,
    BELLA_SERVER_FINGERPRINT: listener.fingerprint!,
    BELLA_TOKEN: lease.token,
  };
  return { port, holder, lease };
}

/** Denied entries from `source`, counting aggregated ones by their count. */
async function deniedFrom(daemon: DaemonHandle, source: string) {
  const { entries } = await daemon.client.call('listAudit', { outcome: 'Denied', limit: 1000 });
  const mine = entries.filter((e) => e.source === source);
  return { count: mine.reduce((n, e) => n + (e.count ?? 1), 0), messages: mine.map((e) => e.message ?? '') };
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

describe('the listener holds under one peer: idle connections, a shared address, the allow list', () => {
  it('600 idle TLS connections from one address: at most 64 are held, and reclaimed; a holder elsewhere is served', async () => {
    const { place, daemon } = await pool.start();
    const { port, holder } = await listenerWithLease(daemon);
    const perSource = LISTENER_LIMITS.maxConnectionsPerSource;
    const sockets: net.Socket[] = [];
    try {
      // A peer that opens TCP and never starts TLS: the handshake timeout must cut it.
      const silent = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.3' });
      sockets.push(silent);
      const silentClosed = new Promise<void>((resolve) => silent.on('close', () => resolve()));
      silent.on('error', () => undefined).resume();

      // 600 connections from 127.0.0.2 that complete the handshake and then send and read nothing
      // (a peer that never reads cannot be relied on to close its side), 50 at a time.
      const opened = { held: 0, refused: 0 };
      const heldSockets: tls.TLSSocket[] = [];
      const openOne = () =>
        new Promise<void>((resolve) => {
          const options: tls.ConnectionOptions & { localAddress: string } = {
            host: '127.0.0.1',
            port,
            localAddress: '127.0.0.2',
            rejectUnauthorized: false,
          };
          const socket = tls.connect(options);
          sockets.push(socket);
          const timer = setTimeout(() => done('refused'), 10_000);
          let settled = false;
          const done = (how: 'held' | 'refused') => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            socket.on('error', () => undefined);
            if (how === 'held') heldSockets.push(socket);
            opened[how]++;
            resolve();
          };
          socket.once('secureConnect', () => done('held'));
          socket.once('error', () => done('refused'));
          socket.once('close', () => done('refused'));
        });
      const started = Date.now();
      for (let i = 0; i < 600; i += 50) await Promise.all(Array.from({ length: 50 }, openOne));
      const openedAt = Date.now();
      const openMs = openedAt - started;
      const first = { ...opened };

      // The holder on another address is served at once, through the real CLI.
      const t0 = Date.now();
      const read = await bella(place, ['secrets', 'get', 'API_KEY'], holder, 10_000);
      const holderMs = Date.now() - t0;
      expect([read.code, read.stdout], read.stderr).toEqual([0, 'k-1\n']);

      expect(first.held + first.refused).toBe(600);
      expect(first.held).toBeLessThanOrEqual(perSource);
      expect(first.refused).toBeGreaterThanOrEqual(600 - perSource);

      // The refusals are in the trail, aggregated: a few entries with the count, from 127.0.0.2.
      const denied = await waitFor(
        async () => {
          const d = await deniedFrom(daemon, '127.0.0.2');
          return d.count >= first.refused ? d : null;
        },
        'the aggregated Denied entries of 127.0.0.2',
        30_000,
      );
      expect(denied.count).toBe(first.refused);
      expect(denied.messages.length).toBeLessThanOrEqual(10);
      expect(denied.messages.join('\n')).toContain(`more than ${perSource} connections at once`);

      // Idle connections are reclaimed by the server (header timeout): the address may connect again.
      await waitFor(
        async () => {
          const before = opened.held;
          await openOne();
          return opened.held > before;
        },
        'a new connection from 127.0.0.2 once its idle ones were closed',
        40_000,
      );
      const reclaimMs = Date.now() - openedAt;
      await waitFor(() => silent.destroyed, 'the server to close a connection that never started TLS', 30_000);
      await silentClosed;
      console.log(
        `listener: 600 idle TLS connections from 127.0.0.2 opened in ${openMs} ms: ${first.held} held, ${first.refused} refused; holder on 127.0.0.1 served in ${holderMs} ms (a whole CLI run); 127.0.0.2 could connect again ${reclaimMs} ms after they were opened`,
      );
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  }, 120_000);

  it('a valid token is served from an address that keeps sending wrong ones; the wrong ones get 429', async () => {
    const { place, daemon } = await pool.start();
    const { port, holder } = await listenerWithLease(daemon);
    const wrong = { authorization: `Bearer bax-${'a'.repeat(16)}-${'b'.repeat(43)}` };
    const statuses = new Map<number, number>();
    const guess = async () => {
      const res = await probe(port, 'GET', '/v1/secrets', wrong);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      return res;
    };
    // The shared address is past its allowance of failures...
    for (let i = 0; i < 20; i++) await guess();
    const throttled = await guess();
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // ...and stays there while a holder behind the same address keeps working.
    const served: number[] = [];
    for (let i = 0; i < 8; i++) {
      for (let j = 0; j < 3; j++) await guess();
      const read = await bella(place, ['secrets', 'get', 'API_KEY'], holder);
      expect([read.code, read.stdout], read.stderr).toEqual([0, 'k-1\n']);
      served.push(read.code!);
      const direct = await probe(port, 'GET', '/v1/secrets', { authorization: `Bearer ${holder.BELLA_TOKEN}` });
      expect(direct.status).toBe(200);
    }
    expect(served).toHaveLength(8);
    expect(statuses.get(429)).toBeGreaterThan(30);
    console.log(
      `listener: shared address, wrong tokens ${JSON.stringify(Object.fromEntries(statuses))}; valid holder served 8 of 8 (CLI) and 8 of 8 (raw)`,
    );
  }, 120_000);

  it('--allow: an address outside the list is told so (403) and reads nothing; --allow any clears the list', async () => {
    const { place, daemon } = await pool.start();
    const { holder, lease } = await listenerWithLease(daemon, ['--allow', '127.0.0.5'], place);
    const status = await bella(place, ['listener', 'status']);
    expect(status.stdout).toMatch(/allowed from\s+127\.0\.0\.5\n/);

    const refused = await bella(place, ['secrets', 'get', 'API_KEY'], holder);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(
      'this listener does not allow your address (127.0.0.1): ask its owner to add it with `bella listener enable --allow …`',
    );
    expect((await daemon.client.call('getLease', { id: lease.lease.id })).lease.lastUsedAt).toBeNull();
    const denied = await deniedFrom(daemon, '127.0.0.1');
    expect(denied.count).toBeGreaterThanOrEqual(1);
    expect(denied.messages.every((m) => m === 'not in --allow')).toBe(true);

    const cleared = await bella(place, ['listener', 'enable', '--allow', 'any', '--json']);
    expect(cleared.code, cleared.stderr).toBe(0);
    expect((JSON.parse(cleared.stdout) as { listener: { allow: string[] } }).listener.allow).toEqual([]);
    expect((await bella(place, ['listener', 'status'])).stdout).toMatch(/allowed from\s+any address/);
    const served = await bella(place, ['secrets', 'get', 'API_KEY'], holder);
    expect([served.code, served.stdout], served.stderr).toEqual([0, 'k-1\n']);
  }, 60_000);

  it('--public-url names what holders use in the hand-over, JSON and status; auto goes back', async () => {
    const { place, daemon } = await pool.start();
    const { port } = await listenerWithLease(daemon, ['--public-url', 'https://Bella.Example.test:8443/'], place);
    const issue = ['leases', 'issue', '-p', 'app', '-e', 'prod', '--scope', 'API_KEY', '--reason', 'r'];
    const issued = await bella(place, issue);
    expect(issued.code, issued.stderr).toBe(0);
    expect(issued.stderr).toContain('  export BELLA_SERVER=https://bella.example.test:8443\n');
    const json = await bella(place, [...issue, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ server: 'https://bella.example.test:8443' });
    const status = await bella(place, ['listener', 'status', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({
      listener: {
        publicUrl: 'https://bella.example.test:8443',
        urls: ['https://bella.example.test:8443', `https://127.0.0.1:${port}`],
      },
    });
    expect((await bella(place, ['listener', 'status'])).stdout).toMatch(
      /public url\s+https:\/\/bella\.example\.test:8443/,
    );
    const bad = await bella(place, ['listener', 'enable', '--public-url', 'http://bella.example.test']);
    expect([bad.code, bad.stderr]).toEqual([
      1,
      expect.stringMatching(/--public-url http:\/\/bella\.example\.test is not https:\/\/HOST\[:PORT\]/),
    ]);
    expect((await bella(place, ['listener', 'enable', '--public-url', 'auto'])).code).toBe(0);
    const back = await daemon.client.call('getListener', {});
    expect([back.listener.publicUrl, back.listener.urls]).toEqual([null, [`https://127.0.0.1:${port}`]]);
  }, 60_000);
});
