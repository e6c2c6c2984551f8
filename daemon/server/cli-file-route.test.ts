import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { readCliFile } from '../services/listener/cli-file';
import { registerCliFileRoute } from './cli-file-route';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-cli-file-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function appFor(file: string) {
  const app = Fastify();
  registerCliFileRoute(app, readCliFile(file));
  return app;
}

describe('GET /v1/cli/bella.mjs', () => {
  it('serves the bundle read at start with its type, length, SHA-256 and ETag, and 304 for a current copy', async () => {
    const file = path.join(dir, 'bella.mjs');
    fs.writeFileSync(file, 'console.log("bella");\n');
    const app = appFor(file);
    fs.writeFileSync(file, 'changed on disk after start\n');
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
