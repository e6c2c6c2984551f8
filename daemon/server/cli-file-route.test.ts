import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { readCliFile } from '../services/listener/cli-file';
import { cliFileRoute } from './cli-file-route';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-cli-file-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Answer {
  statusCode: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json(): { error: { code: string; message: string } };
}

/** The route's handler on a real HTTP server on loopback, asked with real requests. */
function appFor(file: string) {
  const server = http.createServer(cliFileRoute(readCliFile(file)));
  const listening = new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    async inject(options: { method: string; url: string; headers?: Record<string, string> }): Promise<Answer> {
      await listening;
      const { port } = server.address() as AddressInfo;
      return new Promise((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            path: options.url,
            method: options.method,
            headers: options.headers,
            agent: false,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const body = Buffer.concat(chunks).toString('utf8');
              resolve({
                statusCode: res.statusCode ?? 0,
                headers: res.headers,
                body,
                json: () => JSON.parse(body) as never,
              });
            });
          },
        );
        req.on('error', reject);
        req.end();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('GET /v1/cli/bella.mjs', () => {
  it('serves the bundle hashed at start with its type, length, SHA-256 and ETag, and 304 for a current copy', async () => {
    const file = path.join(dir, 'bella.mjs');
    fs.writeFileSync(file, 'console.log("bella");\n');
    const app = appFor(file);
    const res = await app.inject({ method: 'GET', url: '/v1/cli/bella.mjs' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('console.log("bella");\n');
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['content-length']).toBe('22');
    expect(res.headers['x-bella-sha256']).toBe(createHash('sha256').update('console.log("bella");\n').digest('hex'));
    expect(res.headers.etag).toBe(`"sha256-${res.headers['x-bella-sha256'] as string}"`);
    const again = await app.inject({
      method: 'GET',
      url: '/v1/cli/bella.mjs',
      headers: { 'if-none-match': res.headers.etag as string },
    });
    expect([again.statusCode, again.body]).toEqual([304, '']);
    await app.close();
  });

  it('never serves other bytes than those of start: a file changed or gone since is unavailable, saying to restart', async () => {
    const file = path.join(dir, 'rebuilt.mjs');
    fs.writeFileSync(file, 'console.log("bella");\n');
    const app = appFor(file);
    fs.writeFileSync(file, 'changed on disk after start\n');
    const changed = await app.inject({ method: 'GET', url: '/v1/cli/bella.mjs' });
    expect(changed.statusCode).toBe(503);
    expect(changed.body).not.toContain('changed on disk');
    expect(changed.json().error).toMatchObject({
      code: 'unavailable',
      message: expect.stringContaining('restarts the daemon'),
    });
    fs.rmSync(file);
    const gone = await app.inject({ method: 'GET', url: '/v1/cli/bella.mjs' });
    expect(gone.statusCode).toBe(503);
    expect(gone.json().error.message).toContain('ENOENT');
    // Put back as it was at start, it is served again.
    fs.writeFileSync(file, 'console.log("bella");\n');
    const back = await app.inject({ method: 'GET', url: '/v1/cli/bella.mjs' });
    expect([back.statusCode, back.body]).toEqual([200, 'console.log("bella");\n']);
    await app.close();
  });

  it('answers unavailable, saying how to build it, when there is no bundle (and the server keeps serving)', async () => {
    const app = appFor(path.join(dir, 'missing.mjs'));
    const res = await app.inject({ method: 'GET', url: '/v1/cli/bella.mjs' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({
      error: { code: 'unavailable', message: expect.stringContaining('npm run build:daemon') },
    });
    expect(res.json().error.message).toContain('ENOENT');
    await app.close();
  });
});
