import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodyError, readBody } from './body';

/** A real server on loopback answering what readBody made of each request. */
let server: http.Server;
let port: number;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    readBody(req, 64).then(
      (body) => res.end(JSON.stringify({ body: body === undefined ? '(none)' : body })),
      (err: BodyError) => res.end(JSON.stringify({ error: err.message, body: err instanceof BodyError })),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function send(method: string, headers: Record<string, string>, chunks: string[] = []): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: '/', headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve(JSON.parse(text)));
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}
const json = { 'content-type': 'application/json; charset=utf-8' };

describe('reading a request body', () => {
  it('parses JSON, reads text/plain as text, and is no input without a type and a body', async () => {
    expect(await send('POST', json, ['{"a":', '[1,2]}'])).toEqual({ body: { a: [1, 2] } });
    expect(await send('PUT', { 'content-type': 'text/plain' }, ['hi'])).toEqual({ body: 'hi' });
    expect(await send('POST', {})).toEqual({ body: '(none)' });
    expect(await send('DELETE', { 'content-length': '0' })).toEqual({ body: '(none)' });
  });

  it('ignores the body of methods that have none (GET)', async () => {
    expect(await send('GET', { ...json, 'content-length': '7' }, ['{"a":1}'])).toEqual({ body: '(none)' });
  });

  it('refuses other content types, and a body without a type', async () => {
    const asJson = 'send the request body as JSON (content-type: application/json)';
    expect(await send('POST', { 'content-type': 'application/x-www-form-urlencoded' }, ['a=1'])).toEqual({
      error: asJson,
      body: true,
    });
    expect(await send('POST', {}, ['{"a":1}'])).toEqual({ error: asJson, body: true });
  });

  it('refuses an empty JSON body, invalid JSON, and prototype keys at any depth', async () => {
    expect(await send('POST', json)).toMatchObject({
      error: 'the JSON request body is empty: send an object, at least {}',
    });
    expect(await send('POST', json, ['{"a":'])).toMatchObject({
      error: expect.stringMatching(/^the request body is not valid JSON: ./),
    });
    for (const text of ['{"__proto__":{"x":1}}', '[{"a":{"constructor":{"prototype":{}}}}]']) {
      expect(await send('POST', json, [text])).toMatchObject({
        error: 'the request body is not valid JSON: it holds a __proto__ or constructor.prototype key',
      });
    }
    // A key merely named constructor is fine.
    expect(await send('POST', json, ['{"constructor":"x"}'])).toEqual({ body: { constructor: 'x' } });
  });

  it('refuses a body over the limit, by its declared length and by what arrives', async () => {
    const big = `{"a":"${'x'.repeat(80)}"}`;
    expect(await send('POST', json, [big])).toEqual({
      error: 'the request body is larger than 64 bytes',
      body: true,
    });
    const chunked = { ...json, 'transfer-encoding': 'chunked' };
    expect(await send('POST', chunked, [big.slice(0, 40), big.slice(40)])).toMatchObject({
      error: 'the request body is larger than 64 bytes',
    });
  });
});
