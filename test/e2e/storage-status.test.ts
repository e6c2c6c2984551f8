import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageStatus } from '../../daemon/api/routes';
import { DaemonClient } from '../../daemon/client/client';
import { createRelay } from '../../electron/main/relay';
import { ensureBuilt } from '../helpers/build';
import { buildRenderer, launchApp, serveDir, startDaemon, type TestApp, type TestDaemon } from './harness';

// Where the daemon keeps its state, at the foot of the sidebar, in Debian's Chromium against a real
// daemon. The daemon keeps files (nothing is shown); for PostgreSQL its status answer passes the
// relay with `storage` put in its place (no daemon on PostgreSQL runs here), and a real daemon
// event makes the app read the status again.

let daemon: TestDaemon;
let server: { url: string; close(): Promise<void> };
let app: TestApp;
let page: Page;
/** Put in the daemon's status answers in place of its own `storage`, when set. */
let storage: StorageStatus | null = null;
let projects = 0;

/** A real daemon event (a project created), after which the app reads the status again. */
async function daemonEvent(): Promise<void> {
  projects++;
  await daemon.client.call('createProject', { slug: `p${projects}`, name: `Project ${projects}` });
}

function note(): Locator {
  return page.getByRole('note', { name: 'Storage' });
}

beforeAll(async () => {
  ensureBuilt();
  server = await serveDir(await buildRenderer('renderer-storage-status'));
  daemon = await startDaemon();
  const client = new DaemonClient({ socketPath: daemon.socket });
  const call = client.call.bind(client);
  client.call = (async (op, input, options) => {
    const answer = await call(op, input, options);
    return op === 'status' && storage ? { ...answer, storage } : answer;
  }) as typeof client.call;
  app = await launchApp(
    server.url,
    daemon.socket,
    createRelay(async () => client),
  );
  page = app.page;
  await page.getByText('No active leases').waitFor();
}, 180_000);

afterAll(async () => {
  // Each one even when another fails: a daemon must not outlive a failed run.
  const ends = [() => app?.close(), () => server?.close(), () => daemon?.stop()];
  for (const end of ends) await Promise.resolve(end()).catch((err: unknown) => console.error(err));
});

describe('where the state is kept, in the desktop app', { timeout: 60_000 }, () => {
  it('shows nothing new for a daemon on files', async () => {
    expect((await daemon.client.call('status', {})).storage).toEqual({ kind: 'files' });
    await daemonEvent();
    await page.getByRole('link', { name: `Project ${projects}` }).waitFor();
    expect(await note().count()).toBe(0);
  });

  it('names the PostgreSQL server and this node as active, then a standby with and without an active node', async () => {
    const nodeA = { node: 'a', url: 'https://a.lan:7443', epoch: 7, since: '2026-12-03T09:58:00Z' };
    const shared = { kind: 'postgres', server: 'db.lan:5432/bella' } as const;
    const cases: [StorageStatus, string][] = [
      [
        { ...shared, role: 'active', node: 'a', url: nodeA.url, epoch: 7, active: nodeA },
        'Shared on PostgreSQL db.lan:5432/bella — this node (a) is active, epoch 7',
      ],
      [
        { ...shared, role: 'standby', node: 'b', url: 'https://b.lan:7443', epoch: null, active: nodeA },
        'Shared on PostgreSQL db.lan:5432/bella — this node (b) is a standby: node a is active',
      ],
      [
        { ...shared, role: 'standby', node: 'b', url: 'https://b.lan:7443', epoch: null, active: null },
        'Shared on PostgreSQL db.lan:5432/bella — this node (b) is a standby: no node is active',
      ],
    ];
    for (const [given, shown] of cases) {
      storage = given;
      await daemonEvent();
      await note().filter({ hasText: shown }).waitFor({ timeout: 10_000 });
    }
    // The lease count above it stays as it was.
    expect(await page.getByText('No active leases').count()).toBe(1);

    // Files again (the daemon's own answer): the line goes.
    storage = null;
    await daemonEvent();
    await note().waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('ran without page errors', () => {
    expect(app.errors).toEqual([]);
  });
});
