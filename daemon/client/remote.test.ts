import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BellaError } from '../api/errors';
import { generateSelfSigned, type CertificatePair } from '../services/listener/certificate';
import type { ServedPair } from '../server/tls/hardening';
import { createStubServer, type StubEvent } from '../../test/helpers/stub-server';
import { createTestCa, issueLeaf } from '../../test/helpers/ca';
import { collect, repoRoot } from '../../test/helpers/cli';
import { fixtureArgs, lastJson } from '../../test/helpers/fixtures';
import type { RemoteCallRequest, RemoteCallResult } from '../../test/helpers/fixtures/remote-call';
import { RemoteClient } from './remote';

const TOKEN = 'bax-lease1-' + 'S'.repeat(43);
let pair: CertificatePair;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  pair = await generateSelfSigned({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
});
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

interface Seen {
  handshakes: number;
  /** Application bytes that arrived on server-side TLS sockets (after the handshake). */
  appBytes: number;
  appData: string;
  requests: Extract<StubEvent, { request: unknown }>['request'][];
}

async function listen(server: net.Server, port = 0): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => sockets.add(s));
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  cleanups.push(() => {
    sockets.forEach((s) => s.destroy());
    return new Promise((r) => server.close(r));
  });
  return (server.address() as net.AddressInfo).port;
}

/** A stub listener on 127.0.0.1 (on `port`, or any free one) serving `cert`, recording everything that reaches it. */
async function tlsServer(cert: ServedPair = pair, answer?: Parameters<typeof createStubServer>[2], port = 0) {
  const seen: Seen = { handshakes: 0, appBytes: 0, appData: '', requests: [] };
  const server = createStubServer(
    cert,
    (event) => {
      if ('handshake' in event) seen.handshakes++;
      else if ('request' in event) seen.requests.push(event.request);
      else {
        seen.appBytes += event.bytes;
        seen.appData += event.data;
      }
    },
    answer,
  );
  const bound = await listen(server, port);
  return { port: bound, seen, url: `https://127.0.0.1:${bound}` };
}

function client(options: ConstructorParameters<typeof RemoteClient>[0]): RemoteClient {
  const c = new RemoteClient(options);
  cleanups.push(() => c.close());
  return c;
}

async function refusal(promise: Promise<unknown>): Promise<BellaError> {
  const err = await promise.then(
    () => new Error('expected a refusal'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BellaError);
  return err as BellaError;
}

/** One pinned token read at `server` that must be refused; returns the error. */
function refusedRead(server: string, options: Partial<ConstructorParameters<typeof RemoteClient>[0]> = {}) {
  return refusal(
    client({ server, fingerprint: pair.fingerprint, ...options }).call('readSecrets', {}, { token: TOKEN }),
  );
}

/** Runs one RemoteClient call in a child process (its own trust store via NODE_EXTRA_CA_CERTS). */
async function callInChild(request: RemoteCallRequest, env: NodeJS.ProcessEnv = {}): Promise<RemoteCallResult> {
  const child = spawn(process.execPath, fixtureArgs('remote-call', request), {
    cwd: repoRoot,
    env: { ...process.env, ...env },
  });
  return lastJson<RemoteCallResult>(await collect(child, undefined, 30_000));
}

describe('RemoteClient with a pinned certificate', () => {
  it('sends the request once the pin matches and parses the answer, over one keep-alive connection', async () => {
    const { url, seen } = await tlsServer();
    const c = client({ server: url, fingerprint: pair.fingerprint });
    const answer = await c.call('readSecrets', { keys: 'A,B' }, { token: TOKEN });
    expect(answer).toMatchObject({ leaseId: 'lease1', secrets: { API_KEY: 'k-1' } });
    expect(seen.requests).toEqual([{ method: 'GET', url: '/v1/secrets?keys=A%2CB', authorization: `Bearer ${TOKEN}` }]);
    // The instrument the refusal test relies on does see application bytes.
    expect(seen.appBytes).toBeGreaterThan(0);
    expect(seen.appData).toContain(`Bearer ${TOKEN}`);
    await c.call('readSecrets', {}, { token: TOKEN });
    expect(seen.requests).toHaveLength(2);
    expect(seen.handshakes).toBe(1);
    expect(c.fingerprint).toBe(pair.fingerprint);
  });

  it('accepts the pin as openssl prints it', async () => {
    const { url } = await tlsServer();
    const colons = pair.fingerprint.slice(7).toUpperCase().match(/../g)!.join(':');
    await expect(
      client({ server: url, fingerprint: colons }).call('readSecrets', {}, { token: TOKEN }),
    ).resolves.toMatchObject({ leaseId: 'lease1' });
  });

  it('refuses a wrong certificate naming both fingerprints, and the server receives not one byte of the request', async () => {
    const { url, seen } = await tlsServer();
    const other = await generateSelfSigned({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const err = await refusedRead(url, { fingerprint: other.fingerprint });
    expect(err.code).toBe('permission_denied');
    expect(err.message).toBe(
      `the server at ${url} presented certificate ${pair.fingerprint} but BELLA_SERVER_FINGERPRINT is ${other.fingerprint}: nothing was sent; check the fingerprint with the lease's owner (bella listener status)`,
    );
    expect(err.message).not.toContain('\n');
    // The handshake happened (so the refusal is the pin's), and then nothing at all arrived.
    await expect.poll(() => seen.handshakes, { timeout: 10_000 }).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.appBytes).toBe(0);
    expect(seen.requests).toEqual([]);
  });

  it('rethrows the server’s wire errors as the same BellaError, and a bare 429 with its Retry-After', async () => {
    let status = 401;
    const { url } = await tlsServer(pair, (_req, res) => {
      if (status === 429) {
        res.writeHead(429, { 'retry-after': '7' }).end();
        return;
      }
      res
        .writeHead(status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'token_revoked', message: 'this lease was revoked' } }));
    });
    const c = client({ server: url, fingerprint: pair.fingerprint });
    const revoked = await refusal(c.call('readSecrets', {}, { token: TOKEN }));
    expect([revoked.code, revoked.message]).toEqual(['token_revoked', 'this lease was revoked']);
    status = 429;
    const limited = await refusal(c.call('readSecrets', {}, { token: TOKEN }));
    expect(limited.code).toBe('unavailable');
    expect(limited.details).toEqual({ retryAfterSeconds: 7 });
    expect(limited.message).toMatch(/try again in 7 s/);
  });

  it('gives up on a server that never answers, and on one that never finishes the handshake', async () => {
    const { url } = await tlsServer(pair, () => {});
    const slow = await refusedRead(url, { timeoutMs: 300 });
    expect(slow.code).toBe('unavailable');
    expect(slow.message).toBe(
      `the bella server at ${url} did not answer within 300 ms: check BELLA_SERVER and the network, or allow it longer with --timeout (e.g. --timeout 2m) or BELLA_TIMEOUT`,
    );

    const silent = net.createServer(() => {});
    const port = await listen(silent);
    const stalled = await refusedRead(`https://127.0.0.1:${port}`, { connectTimeoutMs: 300 });
    expect(stalled.message).toBe(
      `cannot reach the bella server at https://127.0.0.1:${port} (no answer within 300 ms): check BELLA_SERVER and the network`,
    );
  });

  it('cuts off a server that answers and then drips its body at the overall deadline; the handshake counts too', async () => {
    const timers: NodeJS.Timeout[] = [];
    cleanups.push(() => timers.forEach(clearInterval));
    const { url } = await tlsServer(pair, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      timers.push(setInterval(() => res.write(' '), 100));
    });
    const dripped = await refusedRead(url, { timeoutMs: 1000 });
    expect(dripped.message).toMatch(/did not answer within 1s: .*--timeout/);

    const silent = net.createServer(() => {});
    const port = await listen(silent);
    const stalled = await refusedRead(`https://127.0.0.1:${port}`, { timeoutMs: 1000 });
    expect(stalled.message).toMatch(/did not answer within 1s/);
  });

  it('probes the server: the presented fingerprint, or the pin refusal', async () => {
    const { url, seen } = await tlsServer();
    expect(await client({ server: url, fingerprint: pair.fingerprint }).probe()).toBe(pair.fingerprint);
    const other = await generateSelfSigned({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const wrong = await refusal(client({ server: url, fingerprint: other.fingerprint }).probe());
    expect(wrong.code).toBe('permission_denied');
    expect(seen.requests).toEqual([]);
  });
});

describe('RemoteClient never sends a token in clear', () => {
  it('refuses a plain HTTP server at the address, and nothing of the request reaches it', async () => {
    const requests: string[] = [];
    let received = '';
    const plain = http.createServer((req, res) => {
      requests.push(String(req.url));
      res.end('{}');
    });
    plain.on('connection', (s: net.Socket) => s.on('data', (d: Buffer) => (received += d.toString('latin1'))));
    const port = await listen(plain);
    const err = await refusedRead(`https://127.0.0.1:${port}`);
    expect(err.code).toBe('unavailable');
    expect(err.message).toBe(
      `https://127.0.0.1:${port} does not speak TLS (a plain HTTP server?): check BELLA_SERVER with the lease's owner; nothing was sent`,
    );
    expect(received.length).toBeGreaterThan(0); // the ClientHello, and only that
    expect(received).not.toContain('bax-');
    expect(received).not.toMatch(/authorization|GET \//i);
    expect(requests).toEqual([]);
  });

  it('refuses an http:// server address without connecting', async () => {
    let connections = 0;
    const plain = http.createServer((_req, res) => res.end('{}'));
    plain.on('connection', () => connections++);
    const port = await listen(plain);
    expect(() => new RemoteClient({ server: `http://127.0.0.1:${port}` })).toThrow(
      `BELLA_SERVER must start with https:// (bella never sends a token without TLS), not http://127.0.0.1:${port}`,
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(connections).toBe(0);
  });
});

describe('RemoteClient without a pin', () => {
  it('refuses a self-signed certificate by normal verification, before any request byte', async () => {
    const { url, seen } = await tlsServer();
    const err = await refusedRead(url, { fingerprint: undefined });
    expect(err.code).toBe('permission_denied');
    expect(err.message).toBe(
      `the certificate of ${url} is not trusted (self-signed certificate): set BELLA_SERVER_FINGERPRINT to the fingerprint its owner gave you`,
    );
    expect(seen.appBytes).toBe(0);
    expect(seen.requests).toEqual([]);
  });

  it('trusts a certificate from a CA the system trusts, and checks the host name', async () => {
    const ca = await createTestCa();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-ca-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'ca.pem'), ca.certPem);
    const trusted = { NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.pem') };

    const good = await tlsServer(await issueLeaf(ca, { ip: ['127.0.0.1'] }));
    const call = (server: string): RemoteCallRequest => ({
      server,
      token: TOKEN,
      operation: 'readSecrets',
      input: { keys: 'A' },
    });
    expect(await callInChild(call(good.url), trusted)).toMatchObject({ ok: true, result: { leaseId: 'lease1' } });
    expect(good.seen.requests).toEqual([
      { method: 'GET', url: '/v1/secrets?keys=A', authorization: `Bearer ${TOKEN}` },
    ]);
    // The same server is refused where that CA is not trusted.
    expect(await callInChild(call(good.url))).toMatchObject({
      ok: false,
      code: 'permission_denied',
      message: expect.stringMatching(/is not trusted/),
    });

    const misnamed = await tlsServer(await issueLeaf(ca, { dns: ['bella.example.lan'] }));
    expect(await callInChild(call(misnamed.url), trusted)).toEqual({
      ok: false,
      code: 'permission_denied',
      message: `the certificate of ${misnamed.url} is not issued for 127.0.0.1: use the address its owner gave you, or pin it with BELLA_SERVER_FINGERPRINT`,
    });
    expect(good.seen.requests).toHaveLength(1);
    expect(misnamed.seen.requests).toEqual([]);
  });
});

describe('RemoteClient arguments and connection errors', () => {
  it('says which server does not answer', async () => {
    const server = net.createServer();
    const port = await listen(server);
    await new Promise((r) => server.close(r));
    const err = await refusedRead(`https://127.0.0.1:${port}`);
    expect(err.code).toBe('unavailable');
    expect(err.message).toBe(
      `cannot reach the bella server at https://127.0.0.1:${port} (connection refused; is its listener enabled?): check BELLA_SERVER and the network`,
    );
  });

  it('refuses bad addresses, bad pins, admin operations and missing or mangled tokens before connecting', async () => {
    for (const bad of ['127.0.0.1:7443', 'https://h:7443/v1', 'https://u:p@h:7443', 'ftp://h', 'https://h:7443/?x=1']) {
      expect(() => new RemoteClient({ server: bad }), bad).toThrow(/^BELLA_SERVER must be https:\/\/HOST:PORT, not /);
    }
    expect(() => new RemoteClient({ server: 'https://h:7443', fingerprint: 'sha256:abc' })).toThrow(
      'BELLA_SERVER_FINGERPRINT must be sha256: followed by 64 hex digits, as `bella listener status` prints it',
    );
    const { url, seen } = await tlsServer();
    const c = client({ server: url, fingerprint: pair.fingerprint });
    expect((await refusal(c.call('listProjects', {}, { token: TOKEN }))).message).toBe(
      "listProjects is not served by a remote bella server: only token reads and the holder's own lease are",
    );
    expect((await refusal(c.call('readSecrets', {}))).code).toBe('unauthenticated');
    expect((await refusal(c.call('readSecrets', {}, { token: `${TOKEN}\r\nX-Evil: 1` }))).message).toMatch(
      /copy it again whole/,
    );
    expect(seen.handshakes).toBe(0);
    expect(new RemoteClient({ server: 'https://Bella.Example.LAN' }).server).toBe('https://bella.example.lan');
  });
});

/** A port on 127.0.0.1 where nothing listens (connections are refused). */
async function closedPort(): Promise<string> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise((r) => server.close(r));
  return `https://127.0.0.1:${port}`;
}

/**
 * A port on 127.0.0.1 that accepts TCP connections and resets each at once, before the TLS
 * handshake (a server that cannot be reached); `onConnection` is told each one's number.
 */
async function resetting(onConnection: (n: number) => void = () => {}): Promise<string> {
  let connections = 0;
  const server = net.createServer((socket) => {
    socket.resetAndDestroy();
    onConnection(++connections);
  });
  return `https://127.0.0.1:${await listen(server)}`;
}

/** Answers 503 with `Retry-After` and a wire error, as a standby with no active node. */
function standby(retryAfter: string) {
  return (_req: http.IncomingMessage, res: http.ServerResponse) =>
    res
      .writeHead(503, { 'content-type': 'application/json', 'retry-after': retryAfter })
      .end(JSON.stringify({ error: { code: 'unavailable', message: 'no active node' } }));
}

/** Answers 307 to `to` + the request's path, as a standby pointing at the active node. */
function redirecting(to: () => string, status = 307) {
  return (req: http.IncomingMessage, res: http.ServerResponse) =>
    res.writeHead(status, { location: `${to()}${req.url ?? '/'}` }).end();
}

/** A second certificate, so that each server of a list has its own pin. */
let other: CertificatePair;
beforeAll(async () => {
  other = await generateSelfSigned({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
});

describe('RemoteClient with a list of servers', () => {
  it('parses a comma-separated list with one fingerprint per server, and refuses a count that does not match', async () => {
    const c = new RemoteClient({
      server: 'https://a.lan:7443, https://b.lan:7443',
      fingerprint: `${pair.fingerprint},${other.fingerprint}`,
    });
    expect(c.origins).toEqual(['https://a.lan:7443', 'https://b.lan:7443']);
    expect(c.fingerprint).toBe(`${pair.fingerprint},${other.fingerprint}`);
    expect(new RemoteClient({ server: 'https://a.lan:7443,https://b.lan:7443' }).fingerprint).toBeNull();
    const mismatch = (() => {
      try {
        new RemoteClient({ server: 'https://a.lan:7443,https://b.lan:7443', fingerprint: pair.fingerprint });
      } catch (e) {
        return e as BellaError;
      }
      throw new Error('expected a refusal');
    })();
    expect([mismatch.code, mismatch.message]).toEqual([
      'invalid_argument',
      'BELLA_SERVER names 2 servers but BELLA_SERVER_FINGERPRINT has 1 fingerprint: give one fingerprint per server, in the same order (or none when a CA vouches for them)',
    ]);
    expect(() => new RemoteClient({ server: 'https://a.lan:7443,' })).toThrow(
      /^BELLA_SERVER must be https:\/\/HOST:PORT, not ""/,
    );
  });

  it('tries the next server after one that refuses connections and one that answers 503 with Retry-After, then keeps to the one that answered', async () => {
    const refused = await closedPort();
    const waiting = await tlsServer(pair, standby('3'));
    const active = await tlsServer(other);
    const c = client({
      server: `${refused},${waiting.url},${active.url}`,
      fingerprint: `${pair.fingerprint},${pair.fingerprint},${other.fingerprint}`,
    });
    expect(await c.call('readSecrets', { keys: 'API_KEY' }, { token: TOKEN })).toMatchObject({ leaseId: 'lease1' });
    expect(waiting.seen.requests).toHaveLength(1);
    expect(active.seen.requests).toEqual([
      { method: 'GET', url: '/v1/secrets?keys=API_KEY', authorization: `Bearer ${TOKEN}` },
    ]);
    await c.call('lookupToken', {}, { token: TOKEN });
    expect(waiting.seen.requests).toHaveLength(1);
    expect(active.seen.requests).toHaveLength(2);
  });

  it('tries the next server after one that never finishes the handshake within the connect timeout', async () => {
    const silent = net.createServer(() => {});
    const port = await listen(silent);
    const next = await tlsServer();
    const c = client({
      server: `https://127.0.0.1:${port},${next.url}`,
      fingerprint: `${pair.fingerprint},${pair.fingerprint}`,
      connectTimeoutMs: 300,
    });
    expect(await c.call('readSecrets', {}, { token: TOKEN })).toMatchObject({ leaseId: 'lease1' });
    expect(next.seen.requests).toHaveLength(1);
  });

  it('refuses a wrong certificate at once, naming it, and tries no other server', async () => {
    const first = await tlsServer();
    const second = await tlsServer();
    const err = await refusal(
      client({
        server: `${first.url},${second.url}`,
        fingerprint: `${other.fingerprint},${pair.fingerprint}`,
      }).call('readSecrets', {}, { token: TOKEN }),
    );
    expect(err.code).toBe('permission_denied');
    expect(err.message).toContain(`the server at ${first.url} presented certificate ${pair.fingerprint}`);
    expect(first.seen.appBytes).toBe(0);
    expect(second.seen.handshakes).toBe(0);
  });

  it('refuses a plain HTTP server at once and tries no other server, for a read too', async () => {
    const plain = http.createServer((_req, res) => res.end('{}'));
    const port = await listen(plain);
    const second = await tlsServer();
    const err = await refusal(
      client({
        server: `https://127.0.0.1:${port},${second.url}`,
        fingerprint: `${pair.fingerprint},${pair.fingerprint}`,
      }).call('readSecrets', {}, { token: TOKEN }),
    );
    expect(err.message).toMatch(/does not speak TLS/);
    expect(second.seen.handshakes).toBe(0);
  });

  it('waits the smallest Retry-After while every server says 503, then fails naming each answer', async () => {
    const a = await tlsServer(pair, standby('0'));
    const b = await tlsServer(pair, standby('1'));
    const refused = await closedPort();
    const err = await refusal(
      client({
        server: `${a.url},${b.url},${refused}`,
        fingerprint: [pair, pair, pair].map((p) => p.fingerprint).join(','),
      }).call('readSecrets', {}, { token: TOKEN }),
    );
    expect(err.code).toBe('unavailable');
    expect(err.message).toBe(
      `no bella server of BELLA_SERVER answered (3 rounds): ${a.url} answered 503 (no active node), retry after 0 s; ` +
        `${b.url} answered 503 (no active node), retry after 1 s; ` +
        `cannot reach the bella server at ${refused} (connection refused; is its listener enabled?): check BELLA_SERVER and the network`,
    );
    expect([a.seen.requests.length, b.seen.requests.length]).toEqual([3, 3]);

    // A standby whose node became active on the second round answers then.
    let rounds = 0;
    const late = await tlsServer(pair, (req, res) => {
      if (++rounds === 1) standby('0')(req, res);
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: 1 }));
    });
    const answer = await client({
      server: `${refused},${late.url}`,
      fingerprint: `${pair.fingerprint},${pair.fingerprint}`,
    }).call('readSecrets', {}, { token: TOKEN });
    expect([answer, rounds]).toEqual([{ ok: 1 }, 2]);
  });

  it('follows a 307 or 308 to a listed server with that server’s pin, the same method, body and token', async () => {
    let activeUrl = '';
    const standbyServer = await tlsServer(
      pair,
      redirecting(() => activeUrl, 308),
    );
    const active = await tlsServer(other, (req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, body })),
      );
    });
    activeUrl = active.url;
    const c = client({
      server: `${standbyServer.url},${active.url}`,
      fingerprint: `${pair.fingerprint},${other.fingerprint}`,
    });
    expect(await c.call('revokeToken', {}, { token: TOKEN })).toEqual({ method: 'POST', body: '{}' });
    expect(standbyServer.seen.requests).toEqual([
      { method: 'POST', url: '/v1/token/revoke', authorization: `Bearer ${TOKEN}` },
    ]);
    expect(active.seen.requests).toEqual([
      { method: 'POST', url: '/v1/token/revoke', authorization: `Bearer ${TOKEN}` },
    ]);
  });

  it('refuses a redirect to a server not in the list, which sees not even a connection', async () => {
    const stranger = await tlsServer();
    let connections = 0;
    const strangerTcp = net.createServer(() => connections++);
    const strangerPort = await listen(strangerTcp);
    const toTcp = await tlsServer(
      pair,
      redirecting(() => `https://127.0.0.1:${strangerPort}`),
    );
    const toStranger = await tlsServer(
      pair,
      redirecting(() => stranger.url),
    );
    const other2 = await tlsServer();
    for (const from of [toTcp, toStranger]) {
      const to = from === toTcp ? `https://127.0.0.1:${strangerPort}` : stranger.url;
      const err = await refusal(
        client({ server: `${from.url},${other2.url}`, fingerprint: `${pair.fingerprint},${pair.fingerprint}` }).call(
          'readSecrets',
          {},
          { token: TOKEN },
        ),
      );
      expect([err.code, err.message]).toEqual([
        'permission_denied',
        `${from.url} redirected to ${to}, which is not one of BELLA_SERVER's servers: nothing was sent there; ask the lease's owner for the servers' addresses`,
      ]);
    }
    await new Promise((r) => setTimeout(r, 50));
    expect([connections, stranger.seen.handshakes, other2.seen.requests.length]).toEqual([0, 0, 0]);
  });

  it('refuses a redirect to another request on a listed server, which is not sent', async () => {
    const active = await tlsServer(other, (_req, res) => res.writeHead(200).end('{}'));
    const elsewhere = await tlsServer(pair, (_req, res) =>
      res.writeHead(307, { location: `${active.url}/v1/token/revoke` }).end(),
    );
    const err = await refusal(
      client({
        server: `${elsewhere.url},${active.url}`,
        fingerprint: `${pair.fingerprint},${other.fingerprint}`,
      }).call('readSecrets', {}, { token: TOKEN }),
    );
    expect([err.code, err.message]).toEqual([
      'permission_denied',
      `${elsewhere.url} redirected GET /v1/secrets to /v1/token/revoke, another request: nothing was sent there`,
    ]);
    expect(active.seen.requests).toEqual([]);
  });

  it('follows at most 2 redirects', async () => {
    const urls: string[] = [];
    const servers = await Promise.all(
      [0, 1, 2].map((i) =>
        tlsServer(
          pair,
          redirecting(() => urls[(i + 1) % 3]!),
        ),
      ),
    );
    urls.push(...servers.map((s) => s.url));
    const err = await refusal(
      client({ server: urls.join(','), fingerprint: urls.map(() => pair.fingerprint).join(',') }).call(
        'readSecrets',
        {},
        { token: TOKEN },
      ),
    );
    expect(err.message).toBe(
      `${urls[0]} redirected more than 2 times (last to ${urls[0]}): the servers do not agree which one is active; try again later`,
    );
    // Two hops followed; the third redirect is refused, not sent.
    expect(servers.map((s) => s.seen.requests.length)).toEqual([1, 1, 1]);
  });

  it('tries the list again when no server could be reached: a node that binds after the first round answers the second', async () => {
    const starting = await closedPort();
    let late: ReturnType<typeof tlsServer> | undefined;
    const rounds: number[] = [];
    // The failed node resets connections; the new one binds its port when the second round begins.
    const gone = await resetting((n) => {
      rounds.push(n);
      if (n === 2) late = tlsServer(pair, undefined, Number(new URL(starting).port));
    });
    const answer = await client({
      server: `${gone},${starting}`,
      fingerprint: `${pair.fingerprint},${pair.fingerprint}`,
    }).call('readSecrets', {}, { token: TOKEN });
    expect(answer).toMatchObject({ leaseId: 'lease1' });
    expect(rounds).toEqual([1, 2]);
    expect((await late!).seen.requests).toHaveLength(1);
  });

  it('fails after 3 rounds naming every server when none comes up; one server alone fails at once, as before', async () => {
    const rounds: number[] = [];
    const gone = await resetting((n) => rounds.push(n));
    const refused = await closedPort();
    const err = await refusal(
      client({ server: `${gone},${refused}`, fingerprint: `${pair.fingerprint},${pair.fingerprint}` }).call(
        'readSecrets',
        {},
        { token: TOKEN },
      ),
    );
    expect([err.code, err.message]).toEqual([
      'unavailable',
      `no bella server of BELLA_SERVER answered (3 rounds): ` +
        `cannot reach the bella server at ${gone} (the connection was closed): check BELLA_SERVER and the network; ` +
        `cannot reach the bella server at ${refused} (connection refused; is its listener enabled?): check BELLA_SERVER and the network`,
    ]);
    expect(rounds).toEqual([1, 2, 3]);

    const alone = await refusedRead(gone);
    expect([alone.code, alone.message]).toEqual([
      'unavailable',
      `cannot reach the bella server at ${gone} (the connection was closed): check BELLA_SERVER and the network`,
    ]);
    expect(rounds).toEqual([1, 2, 3, 4]);
  });

  it('tries a read again in the next round when one server cut it off and none other could be reached, but never a change', async () => {
    const refused = await closedPort();
    const cutOnce = await tlsServer(pair, (req, res) => {
      if (cutOnce.seen.requests.length === 1) req.socket.destroy();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: 1 }));
    });
    const servers = { server: `${cutOnce.url},${refused}`, fingerprint: `${pair.fingerprint},${pair.fingerprint}` };
    expect(await client(servers).call('readSecrets', {}, { token: TOKEN })).toEqual({ ok: 1 });
    expect(cutOnce.seen.requests.map((r) => r.method)).toEqual(['GET', 'GET']);

    cutOnce.seen.requests.length = 0;
    const err = await refusal(client(servers).call('revokeToken', {}, { token: TOKEN }));
    expect(err.message).toMatch(/the connection was closed/);
    expect(cutOnce.seen.requests.map((r) => r.method)).toEqual(['POST']);
  });

  it('sends a read cut off after it was written to the next server, but never a change', async () => {
    const cutting = await tlsServer(pair, (req) => req.socket.destroy());
    const next = await tlsServer(pair);
    const c = client({ server: `${cutting.url},${next.url}`, fingerprint: `${pair.fingerprint},${pair.fingerprint}` });
    expect(await c.call('readSecrets', {}, { token: TOKEN })).toMatchObject({ leaseId: 'lease1' });
    expect([cutting.seen.requests.length, next.seen.requests.length]).toEqual([1, 1]);

    const again = client({
      server: `${cutting.url},${next.url}`,
      fingerprint: `${pair.fingerprint},${pair.fingerprint}`,
    });
    const err = await refusal(again.call('revokeToken', {}, { token: TOKEN }));
    expect(err.code).toBe('unavailable');
    expect(err.message).toMatch(/the connection was closed/);
    expect([cutting.seen.requests.length, next.seen.requests.length]).toEqual([2, 1]);
  });
});

afterAll(() => {
  for (const c of cleanups.splice(0)) c();
});
