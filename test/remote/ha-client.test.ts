// Issue 22, item 3 (the holder's side): a holder with a list of servers reads from the active
// node through standbys that redirect, answer 503 with Retry-After, or refuse connections; the
// standbys are small HTTPS servers of this test, the active node a real bella daemon's listener.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateSelfSigned, type CertificatePair } from '../../daemon/services/listener/certificate';
import { cliPath, collect } from '../helpers/cli';
import { seed, type DaemonPlace, freePort } from '../helpers/daemon';
import { daemonPool } from '../helpers/pool';
import { createStubServer } from '../helpers/stub-server';

const pool = daemonPool('bella-haclient');
const cleanups: (() => unknown)[] = [];
let standbyCert: CertificatePair;

beforeAll(async () => {
  standbyCert = await generateSelfSigned({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
});
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** Listens on 127.0.0.1 (any free port), counting TCP connections; closed after the test. */
async function listen(server: net.Server) {
  const seen = { connections: 0, requests: [] as string[] };
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    seen.connections++;
    sockets.add(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    sockets.forEach((s) => s.destroy());
    return new Promise((r) => server.close(r));
  });
  return { seen, url: `https://127.0.0.1:${(server.address() as net.AddressInfo).port}` };
}

/** A standby played by an HTTPS server with its own certificate, answering with `answer`. */
async function standby(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const requests: string[] = [];
  const server = createStubServer(
    standbyCert,
    (event) => {
      if ('request' in event) requests.push(`${event.request.method} ${event.request.url}`);
    },
    answer,
  );
  const { seen, url } = await listen(server);
  return { url, seen, requests };
}

async function refusingConnections(): Promise<string> {
  const server = net.createServer();
  const { url } = await listen(server);
  await new Promise((r) => server.close(r));
  return url;
}

/** Accepts TCP connections and resets each before the TLS handshake; `onConnection` is told each one's number. */
async function resettingConnections(onConnection: (n: number) => void): Promise<string> {
  let connections = 0;
  const { url } = await listen(
    net.createServer((socket) => {
      socket.resetAndDestroy();
      onConnection(++connections);
    }),
  );
  return url;
}

/** The real CLI as a holder on another machine, with only PATH, HOME and `env`. */
function holder(place: DaemonPlace, args: string[], env: Record<string, string>) {
  const home = path.join(place.root, 'holder');
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  const child = spawn(process.execPath, [cliPath, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: home, ...env },
    cwd: place.root,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return collect(child, undefined, 20_000);
}

/** A real daemon serving its listener on 127.0.0.1, and a lease on API_KEY. */
async function activeNode() {
  const { place, daemon } = await pool.start();
  const { project, environment } = await seed(daemon.client);
  const address = `127.0.0.1:${await freePort()}`;
  await daemon.client.call('enableListener', { address });
  const { listener } = await daemon.client.call('getListener', {});
  const lease = await daemon.client.call('issueLease', { project, environment, scope: ['API_KEY'], reason: 'ha' });
  return { place, daemon, url: `https://${address}`, fingerprint: listener.fingerprint!, token: lease.token };
}

describe('bella secrets get with a list of servers', () => {
  it('reads from the active daemon through a standby refusing connections, one answering 503 and one redirecting', async () => {
    const active = await activeNode();
    const refused = await refusingConnections();
    const waiting = await standby((_req, res) =>
      res
        .writeHead(503, { 'content-type': 'application/json', 'retry-after': '2' })
        .end(JSON.stringify({ error: { code: 'unavailable', message: 'no active node' } })),
    );
    const redirecting = await standby((req, res) => res.writeHead(307, { location: `${active.url}${req.url}` }).end());
    const servers = [refused, waiting.url, redirecting.url, active.url];
    const pins = [standbyCert, standbyCert, standbyCert].map((c) => c.fingerprint).concat(active.fingerprint);
    const read = await holder(active.place, ['secrets', 'get', 'API_KEY'], {
      BELLA_SERVER: servers.join(','),
      BELLA_SERVER_FINGERPRINT: pins.join(','),
      BELLA_TOKEN: active.token,
    });
    expect([read.code, read.stdout], read.stderr).toEqual([0, 'k-1\n']);
    // The lookup went round the list; the read went straight to the server that answered.
    expect(waiting.requests).toEqual(['GET /v1/token']);
    expect(redirecting.requests).toEqual(['GET /v1/token']);
  }, 60_000);

  it('refuses a redirect to a server not in the list, which sees no connection, and a fingerprint count that does not match', async () => {
    const active = await activeNode();
    const stranger = await standby((_req, res) => res.end('{}'));
    const redirecting = await standby((req, res) =>
      res.writeHead(308, { location: `${stranger.url}${req.url}` }).end(),
    );
    const env = {
      BELLA_SERVER: `${redirecting.url},${active.url}`,
      BELLA_SERVER_FINGERPRINT: `${standbyCert.fingerprint},${active.fingerprint}`,
      BELLA_TOKEN: active.token,
    };
    const refused = await holder(active.place, ['secrets', 'get', 'API_KEY'], env);
    expect([refused.code, refused.stdout]).toEqual([1, '']);
    expect(refused.stderr).toContain(
      `${redirecting.url} redirected to ${stranger.url}, which is not one of BELLA_SERVER's servers: nothing was sent there`,
    );
    expect(stranger.seen.connections).toBe(0);
    const { entries } = await active.daemon.client.call('listAudit', { event: 'SecretsRead', limit: 10 });
    expect(entries).toEqual([]);

    const mismatch = await holder(active.place, ['secrets', 'get', 'API_KEY'], {
      ...env,
      BELLA_SERVER_FINGERPRINT: active.fingerprint,
    });
    expect([mismatch.code, mismatch.stdout]).toEqual([1, '']);
    expect(mismatch.stderr).toContain(
      'BELLA_SERVER names 2 servers but BELLA_SERVER_FINGERPRINT has 1 fingerprint: give one fingerprint per server, in the same order',
    );
    expect(redirecting.requests).toEqual(['GET /v1/token']);
  }, 60_000);
});

describe('a holder with a list of servers through a failover', () => {
  it('reads once the new active node binds its port, while the old one resets every connection', async () => {
    const active = await activeNode();
    const address = active.url.slice('https://'.length);
    // The node about to take over has its port closed until the holder's second round begins.
    await active.daemon.client.call('disableListener', {});
    let binding: Promise<unknown> | undefined;
    const old = await resettingConnections((n) => {
      if (n === 2) binding = active.daemon.client.call('enableListener', { address });
    });
    const read = await holder(active.place, ['secrets', 'get', 'API_KEY'], {
      BELLA_SERVER: `${old},${active.url}`,
      BELLA_SERVER_FINGERPRINT: `${standbyCert.fingerprint},${active.fingerprint}`,
      BELLA_TOKEN: active.token,
    });
    await binding;
    expect([read.code, read.stdout], read.stderr).toEqual([0, 'k-1\n']);
  }, 60_000);
});

describe('bella doctor with a list of servers', () => {
  it('probes each listed server and says which answers', async () => {
    const active = await activeNode();
    const refused = await refusingConnections();
    const env = {
      BELLA_SERVER: `${refused},${active.url}`,
      BELLA_SERVER_FINGERPRINT: `${standbyCert.fingerprint},${active.fingerprint}`,
      BELLA_TOKEN: active.token,
    };
    const res = await holder(active.place, ['doctor', '--json'], env);
    const report = JSON.parse(res.stdout) as {
      ok: boolean;
      checks: { name: string; status: string; detail: string }[];
    };
    expect(report.checks.filter((c) => c.name !== 'versions')).toEqual([
      { name: 'server', status: 'ok', detail: `${active.url} answered over TLS` },
      { name: 'fingerprint', status: 'ok', detail: `${active.url}: ${active.fingerprint}, as pinned` },
      {
        name: 'server',
        status: 'warn',
        detail: `cannot reach the bella server at ${refused} (connection refused; is its listener enabled?): check BELLA_SERVER and the network`,
      },
      expect.objectContaining({ name: 'token', status: 'ok' }),
    ]);
    expect([res.code, report.ok], res.stderr).toEqual([0, true]);

    const none = await holder(active.place, ['doctor', '--json'], {
      ...env,
      BELLA_SERVER: `${refused},${await refusingConnections()}`,
    });
    const failed = JSON.parse(none.stdout) as { ok: boolean; checks: { name: string; status: string }[] };
    expect([none.code, failed.ok]).toEqual([1, false]);
    expect(failed.checks.filter((c) => c.name === 'server').map((c) => c.status)).toEqual(['fail', 'fail']);
  }, 60_000);
});
