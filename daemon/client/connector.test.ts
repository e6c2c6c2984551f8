import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BellaError } from '../api/errors';
import { DaemonClient } from './client';
import { worthStartingAfter } from './connector';

describe('a first call that failed: made again on a daemon started or waited for', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-connector-'));
  const socket = path.join(dir, 'bella.sock');
  const servers: net.Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await new Promise((r) => server.close(r));
    fs.rmSync(socket, { force: true });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const nothingListening = async (): Promise<unknown> => {
    const client = new DaemonClient({ socketPath: socket });
    try {
      return await client.call('listProjects', {}).then(() => expect.unreachable('nothing listens there'));
    } catch (err) {
      return err;
    } finally {
      client.close();
    }
  };
  const listen = async () => {
    const server = net.createServer((c) => c.destroy());
    servers.push(server);
    await new Promise<void>((r) => server.listen(socket, r));
  };

  it('a call that reached no daemon is made again even when a daemon listens by now (its lock was taken first)', async () => {
    const err = await nothingListening();
    expect(err).toBeInstanceOf(BellaError);
    await listen();
    expect(await worthStartingAfter(err, 'listProjects', socket)).toBe(true);
    expect(await worthStartingAfter(err, 'createProject', socket)).toBe(true);
  });

  it('a cut-off read is made again only when nothing listens now; a cut-off change never', async () => {
    const cut = new BellaError('unavailable', 'the daemon closed the connection before answering');
    expect(await worthStartingAfter(cut, 'listProjects', socket)).toBe(true);
    expect(await worthStartingAfter(cut, 'createProject', socket)).toBe(false);
    await listen();
    expect(await worthStartingAfter(cut, 'listProjects', socket)).toBe(false);
    expect(await worthStartingAfter(new BellaError('not_found', 'no such project'), 'listProjects', socket)).toBe(
      false,
    );
  });
});
