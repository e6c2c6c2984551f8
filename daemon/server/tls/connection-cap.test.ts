import tls from 'node:tls';
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { generateSelfSigned } from '../../services/listener/certificate';
import { limitConnectionsPerSource } from './connection-cap';
import { createHardenedServer } from './hardening';

describe('limitConnectionsPerSource', () => {
  it('drops connections past the cap of one source before TLS, and leaves other sources alone', async () => {
    const pair = await generateSelfSigned({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const server = createHardenedServer(pair, (_req, res) => res.end('ok'));
    const refused: (string | undefined)[] = [];
    limitConnectionsPerSource(server, 2, (a) => refused.push(a));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const handshake = (localAddress: string) =>
      new Promise<tls.TLSSocket | string>((resolve) => {
        // localAddress is passed on to net.connect: a second loopback address is a second source.
        const options: tls.ConnectionOptions & { localAddress: string } = {
          host: '127.0.0.1',
          port,
          localAddress,
          rejectUnauthorized: false,
        };
        const socket = tls.connect(options);
        socket.once('secureConnect', () => resolve(socket));
        socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      });
    const held = [await handshake('127.0.0.2'), await handshake('127.0.0.2')];
    expect(held.every((s) => typeof s !== 'string')).toBe(true);
    expect(await handshake('127.0.0.2')).toBe('ECONNRESET');
    expect(refused).toEqual(['127.0.0.2']);
    const other = await handshake('127.0.0.1');
    expect(typeof other).not.toBe('string');
    // A closed connection frees its place.
    (held[0] as tls.TLSSocket).destroy();
    await new Promise((r) => setTimeout(r, 200));
    const again = await handshake('127.0.0.2');
    expect(typeof again).not.toBe('string');
    for (const s of [held[1], other, again]) (s as tls.TLSSocket).destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
});
