import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BellaError } from '../api/errors';
import { DaemonClient, reachedNoDaemon } from './client';
import { socketRequest, tryParse } from './socket-http';

const timeout = () => new BellaError('unavailable', 'too slow');

describe('tryParse', () => {
  it('reads an answer with a Content-Length, and waits for the rest of its body', () => {
    const full = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{"a":1}');
    expect(tryParse(full, false)).toEqual({
      status: 200,
      headers: { 'content-type': 'application/json', 'content-length': '7' },
      body: '{"a":1}',
    });
    expect(tryParse(full.subarray(0, full.length - 2), false)).toBeNull();
    expect(() => tryParse(full.subarray(0, full.length - 2), true)).toThrow('socket hang up');
  });

  it('decodes a chunked body, and an answer that ends with the connection', () => {
    const chunked = 'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n';
    expect(tryParse(Buffer.from(chunked), false)?.body).toBe('abcde');
    expect(tryParse(Buffer.from(chunked.slice(0, -4)), false)).toBeNull();
    const open = Buffer.from('HTTP/1.0 200 OK\r\n\r\nall of it');
    expect(tryParse(open, false)).toBeNull();
    expect(tryParse(open, true)?.body).toBe('all of it');
    expect(tryParse(Buffer.from('HTTP/1.1 204 No Content\r\n\r\n'), false)).toMatchObject({ status: 204, body: '' });
  });

  it('refuses what is not an HTTP answer, with the error code node:http would give', () => {
    const bad = (text: string) => () => tryParse(Buffer.from(text), true);
    expect(bad('SSH-2.0-OpenSSH\r\n\r\n')).toThrow(expect.objectContaining({ code: 'EPROTO' }));
    expect(bad('HTTP/1.1 200 OK\r\nno colon here\r\n\r\n')).toThrow('malformed header');
    expect(bad('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n')).toThrow('bad Content-Length');
    expect(bad('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')).toThrow('bad chunk');
    expect(() => tryParse(Buffer.alloc(70 * 1024, 'a'), false)).toThrow('head that is too large');
    expect(bad('')).toThrow(expect.objectContaining({ code: 'ECONNRESET' }));
  });
});

describe('DaemonClient over socket-http, against a real HTTP server on a Unix socket', () => {
  let dir: string;
  let server: http.Server;
  let raw: net.Server;
  let socket: string;
  let rawSocket: string;
  const seen: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-socket-http-'));
    socket = path.join(dir, 'http.sock');
    rawSocket = path.join(dir, 'raw.sock');
    server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        if (req.url === '/v1/status') {
          // Written in pieces and chunked, as a streamed answer would be.
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"version":');
          setTimeout(() => res.end('"x"}'), 20);
        } else if (req.url === '/v1/projects/p/environments') {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 'not_found', message: 'no project p' } }));
        } else {
          const answer = JSON.stringify({ got: JSON.parse(body || '{}'), big: 'é'.repeat(200_000) });
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
          res.end(answer);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    // Accepts and never answers, or answers and hangs up half way.
    raw = net.createServer((conn) => {
      conn.once('data', (d) => {
        if (d.toString().includes('/half')) conn.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"cut');
        if (d.toString().startsWith('POST')) conn.destroy();
      });
    });
    await new Promise<void>((resolve) => raw.listen(rawSocket, resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await new Promise((resolve) => raw.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('sends method, path, Host, Connection: close and a JSON body; reads a large UTF-8 answer', async () => {
    const client = new DaemonClient({ socketPath: socket });
    const out = (await client.call('createProject', { name: 'P', slug: 'p' })) as unknown as {
      got: unknown;
      big: string;
    };
    expect(out.got).toEqual({ name: 'P', slug: 'p' });
    expect(out.big).toBe('é'.repeat(200_000));
    const req = seen.at(-1);
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/v1/projects');
    expect(req?.headers).toMatchObject({ host: 'localhost', connection: 'close', 'content-type': 'application/json' });
  });

  it('reads a chunked answer written in pieces, and rethrows the daemon error', async () => {
    const client = new DaemonClient({ socketPath: socket });
    expect(await client.call('status', {})).toEqual({ version: 'x' });
    await expect(client.call('listEnvironments', { project: 'p' })).rejects.toMatchObject({
      code: 'not_found',
      message: 'no project p',
    });
  });

  it('says no daemon answers when nothing listens, the answer is cut, or close() ends the call', async () => {
    const gone = new DaemonClient({ socketPath: path.join(dir, 'none.sock') });
    const nothing = await gone.call('status', {}).catch((err: unknown) => err);
    expect(nothing).toMatchObject({ code: 'unavailable' });
    expect(reachedNoDaemon(nothing)).toBe(true);
    // A daemon that stops while answering a change may have made it: said so, and not "nothing listens".
    const cut = await new DaemonClient({ socketPath: rawSocket })
      .call('createProject', { name: 'P', slug: 'p' })
      .catch((err: unknown) => err);
    expect(cut).toMatchObject({ code: 'unavailable', message: expect.stringContaining('stopped before it answered') });
    expect(reachedNoDaemon(cut)).toBe(false);
    expect(await gone.ping()).toBe(false);
    const half = socketRequest(rawSocket, { method: 'GET', path: '/half', headers: {} }, 5000, timeout);
    await expect(half).rejects.toMatchObject({ code: 'ECONNRESET' });
    const silent = new DaemonClient({ socketPath: rawSocket, timeoutMs: 60_000 });
    const pending = silent.call('status', {});
    setTimeout(() => silent.close(), 50);
    await expect(pending).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('gives up after the timeout with the error it is given', async () => {
    const slow = new DaemonClient({ socketPath: rawSocket, timeoutMs: 100 });
    await expect(slow.call('status', {})).rejects.toThrow('the daemon did not answer within 100 ms');
  });
});
