import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../helpers/build';
import { startPostgres, type PgCluster } from '../helpers/postgres';
import { buildRenderer, launchApp, screenshot, serveDir, startDaemon, type TestApp, type TestDaemon } from './harness';

// What needs the owner's attention, shown in the desktop app (Chromium, a real daemon): a lease's
// database login that could not be dropped because its PostgreSQL server (a private cluster of
// the test's own) is down. The banner appears, and goes once the server is back and the daemon's
// retry dropped the role.

let pg: PgCluster;
let daemon: TestDaemon;
let server: { url: string; close(): Promise<void> };
let app: TestApp;
let page: Page;

async function cliOk(args: string[]): Promise<string> {
  const res = await daemon.cli(args);
  if (res.code !== 0) throw new Error(`bella ${args.join(' ')} exited ${res.code}: ${res.stderr}`);
  return res.stdout;
}

beforeAll(async () => {
  ensureBuilt();
  pg = await startPostgres();
  pg.sql(`
    CREATE ROLE bella_owner LOGIN CREATEROLE PASSWORD 'owner-pw-1';
    CREATE ROLE app_read NOLOGIN;
    GRANT app_read TO bella_owner WITH ADMIN OPTION;
  `);
  server = await serveDir(await buildRenderer());
  daemon = await startDaemon();
  await cliOk(['projects', 'create', '--name', 'My API', '--slug', 'my-api']);
  await cliOk(['environments', 'create', '-p', 'my-api', '--name', 'Prod', '--slug', 'prod']);
  await cliOk(['secrets', 'set', 'API_KEY', 'k-1', '-p', 'my-api', '-e', 'prod']);
  const adminUrl = pg.url('postgres', 'bella_owner', 'owner-pw-1');
  await cliOk(['databases', 'add', 'pg-prod', '-p', 'my-api', '-e', 'prod', '--url', adminUrl]);
  await cliOk(['databases', 'roles', 'add', 'pg-prod', 'readonly', '--member-of', 'app_read']);
  app = await launchApp(server.url, daemon.socket);
  page = app.page;
}, 180_000);

afterAll(async () => {
  // Each one even when another fails: a daemon or a cluster must not outlive a failed run.
  const ends = [() => app?.close(), () => server?.close(), () => daemon?.stop(), () => pg?.destroy()];
  for (const end of ends) await Promise.resolve(end()).catch((err: unknown) => console.error(err));
});

describe('what needs attention, in the desktop app', { timeout: 120_000 }, () => {
  it('shows a database login that could not be dropped, until the retry drops it', async () => {
    const banner = page.getByRole('region', { name: 'Needs attention' });
    const issued = JSON.parse(
      await cliOk([
        'leases',
        'issue',
        '-p',
        'my-api',
        '-e',
        'prod',
        '--db',
        'pg-prod:readonly',
        '--reason',
        'x',
        '--json',
      ]),
    ) as { lease: { id: string; database: { user: string } } };
    const user = issued.lease.database.user;
    expect(pg.sql(`SELECT count(*) FROM pg_roles WHERE rolname = '${user}'`).trim()).toBe('1');
    expect(await banner.count()).toBe(0);

    pg.stop();
    await cliOk(['leases', 'revoke', issued.lease.id, '--reason', 'done']);
    await banner.waitFor({ timeout: 30_000 });
    expect(await banner.textContent()).toContain(`database login ${user}`);
    // The daemon's own sentence (its attempt count grows with each retry meanwhile).
    const shown = await banner.locator('li').allTextContents();
    expect(shown).toEqual([
      expect.stringMatching(
        new RegExp(`^database login ${user} .* in pg-prod not dropped after \\d+ attempts?: .*ECONNREFUSED`),
      ),
    ]);
    expect((await daemon.client.call('status', {})).problems).toEqual([
      expect.stringContaining(`database login ${user}`),
    ]);
    await screenshot(page, '37-needs-attention');

    pg.start();
    await banner.waitFor({ state: 'detached', timeout: 90_000 });
    expect(pg.sql(`SELECT count(*) FROM pg_roles WHERE rolname = '${user}'`).trim()).toBe('0');
  });

  it('ran without page errors', () => {
    expect(app.errors).toEqual([]);
  });
});
