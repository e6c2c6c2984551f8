import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSelfSigned, type CertificatePair } from '../../services/listener/certificate';
import {
  createHardenedServer,
  LISTENER_LIMITS,
  listenerServerOptions,
  TLS_SETTINGS,
  type ListenerLimits,
} from './hardening';

let pair: CertificatePair;
const servers: https.Server[] = [];

beforeAll(async () => {
  pair = await generateSelfSigned({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

/** A hardened server on 127.0.0.1 answering "ok"; returns its port and what it saw. */
async function serve(limits: Partial<ListenerLimits> = {}) {
  const seen = { requests: 0, tlsClientErrors: [] as string[] };
  const server = createHardenedServer(
    pair,
    (_req, res) => {
      seen.requests++;
      res.end('ok');
    },
    { ...LISTENER_LIMITS, ...limits },
  );
  server.on('tlsClientError', (err) => seen.tlsClientErrors.push((err as NodeJS.ErrnoException).code ?? err.message));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  server.unref();
  return { port: (server.address() as net.AddressInfo).port, seen, server };
}

function connect(port: number, options: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before the handshake finished')));
  });
}

/** Resolves with what the peer sent and how long the socket stayed open, failing after `limitMs`. */
function untilClosed(socket: net.Socket, limitMs: number): Promise<{ data: string; ms: number }> {
  const start = Date.now();
  let data = '';
  socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
  socket.on('error', () => {});
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`still open after ${limitMs} ms`));
    }, limitMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ data, ms: Date.now() - start });
    });
  });
}

describe('TLS settings', () => {
  it('negotiates TLS 1.3 by default and still serves a TLS 1.2 peer on an ECDHE AEAD suite', async () => {
    const { port } = await serve();
    const v13 = await connect(port);
    expect(v13.getProtocol()).toBe('TLSv1.3');
    v13.destroy();
    const v12 = await connect(port, { maxVersion: 'TLSv1.2' });
    expect(v12.getProtocol()).toBe('TLSv1.2');
    expect(v12.getCipher().name).toMatch(/^ECDHE-ECDSA-(AES\d+-GCM|CHACHA20-POLY1305)/);
    v12.destroy();
  });

  it('refuses TLS 1.1 and TLS 1.2 suites without forward secrecy or AEAD, on the server side', async () => {
    const { port, seen } = await serve();
    // SECLEVEL=0 lets this client offer what OpenSSL would no longer offer by itself.
    await expect(
      connect(port, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }),
    ).rejects.toThrow();
    await expect(
      connect(port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA:AES128-GCM-SHA256' }),
    ).rejects.toThrow();
    await expect.poll(() => seen.tlsClientErrors.length, { timeout: 10_000 }).toBe(2);
    expect(seen.requests).toBe(0);
    expect(TLS_SETTINGS.minVersion).toBe('TLSv1.2');
    expect(listenerServerOptions(pair)).toMatchObject({
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
      honorCipherOrder: true,
    });
  });

  it('agrees X25519 with a client that offers it, as Node and curl do (the cheapest ECDHE for every handshake)', async () => {
    const { port } = await serve();
    const socket = await connect(port);
    expect(socket.getEphemeralKeyInfo()).toMatchObject({ type: 'ECDH', name: 'X25519' });
    socket.destroy();
    // A client without X25519 still gets P-256.
    const p256 = await connect(port, { ecdhCurve: 'P-256' });
    expect(p256.getEphemeralKeyInfo()).toMatchObject({ type: 'ECDH', name: 'prime256v1' });
    p256.destroy();
  });

  it('refuses a renegotiation', async () => {
    const { port } = await serve();
    const socket = await connect(port, { maxVersion: 'TLSv1.2' });
    const closed = untilClosed(socket, 10_000);
    socket.renegotiate({ rejectUnauthorized: false }, () => {});
    await closed;
    expect(socket.destroyed).toBe(true);
  });
});

describe('limits', () => {
  it('closes a connection whose headers trickle in (slowloris) after headersTimeout', async () => {
    const { port, seen } = await serve({
      headersTimeoutMs: 400,
      requestTimeoutMs: 1000,
      connectionsCheckingIntervalMs: 50,
    });
    const socket = await connect(port);
    const closed = untilClosed(socket, 10_000);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
    const timer = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 100);
    const { data, ms } = await closed;
    clearInterval(timer);
    expect(data).toMatch(/^HTTP\/1\.1 408/);
    expect(ms).toBeGreaterThanOrEqual(300);
    expect(ms).toBeLessThan(8000); // the defaults are 60 s (headers) and 120 s (handshake)
    expect(seen.requests).toBe(0);
  });

  it('drops a TCP peer that never completes the TLS handshake', async () => {
    const { port } = await serve({ handshakeTimeoutMs: 300 });
    const socket = net.connect(port, '127.0.0.1');
    const { ms } = await untilClosed(socket, 10_000);
    expect(ms).toBeLessThan(8000); // the defaults are 60 s (headers) and 120 s (handshake)
  });

  it('answers a plaintext HTTP request with no HTTP at all', async () => {
    const { port, seen } = await serve();
    const socket = net.connect(port, '127.0.0.1', () =>
      socket.write('GET /v1/secrets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer bax-x-y\r\n\r\n'),
    );
    const { data } = await untilClosed(socket, 10_000);
    expect(data).not.toMatch(/HTTP\/1/);
    expect(seen.requests).toBe(0);
  });

  it('caps concurrent connections', async () => {
    const { port } = await serve({ maxConnections: 2 });
    const open = [await connect(port), await connect(port)];
    await expect(connect(port)).rejects.toThrow();
    open.forEach((s) => s.destroy());
  });

  it('closes a keep-alive connection after maxRequestsPerSocket requests', async () => {
    const { port, seen } = await serve({ maxRequestsPerSocket: 2 });
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
    const get = () =>
      new Promise<{ connection: string | undefined; socketId: unknown }>((resolve, reject) => {
        const req = https.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve({ connection: res.headers.connection, socketId: req.socket }));
        });
        req.on('error', reject);
      });
    const first = await get();
    const second = await get();
    expect(first.connection).toBe('keep-alive');
    expect(second.socketId).toBe(first.socketId);
    expect(second.connection).toBe('close');
    const third = await get();
    expect(third.socketId).not.toBe(first.socketId);
    expect(seen.requests).toBe(3);
    agent.destroy();
  });

  it('keeps header and request timeouts ordered as Node requires', () => {
    expect(LISTENER_LIMITS.headersTimeoutMs).toBeLessThanOrEqual(LISTENER_LIMITS.requestTimeoutMs);
    expect(LISTENER_LIMITS.connectionsCheckingIntervalMs).toBeLessThan(LISTENER_LIMITS.headersTimeoutMs);
  });
});
