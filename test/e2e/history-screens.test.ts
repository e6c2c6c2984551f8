import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRenderer, launchApp, screenshot, serveDir, startDaemon, type TestApp, type TestDaemon } from './harness';
import { ensureBuilt } from '../helpers/build';

// A secret's history with Roll back, and the environment's trash with Restore, in Debian's
// Chromium against a real daemon; what the screens did is read back with the real CLI (as the
// owner and through a lease's token). Steps run in order.

const P = 'payments-api';
const E = 'production';
const DB = ['postgres://billing:first@db.internal/payments', 'postgres://billing:second@db.internal/payments'];
const DB_NOW = 'postgres://billing:third@db.internal/payments';
const STRIPE = 'sk_live_51Hx9QeLmN0pQrStUv';

let daemon: TestDaemon;
let server: { url: string; close(): Promise<void> };
let app: TestApp;
let page: Page;
let token = '';

function dialog(): Locator {
  return page.getByRole('dialog');
}

async function cliOk(args: string[], input?: string): Promise<string> {
  const res = input === undefined ? await daemon.cli(args) : await daemon.cli([...args, input]);
  if (res.code !== 0) throw new Error(`bella ${args.join(' ')} exited ${res.code}: ${res.stderr}`);
  return res.stdout.replace(/\n$/, '');
}

beforeAll(async () => {
  ensureBuilt();
  server = await serveDir(await buildRenderer());
  daemon = await startDaemon();
  await cliOk(['projects', 'create', '--name', 'Payments API', '--slug', P]);
  await cliOk(['environments', 'create', '-p', P, '--name', 'Production', '--slug', E]);
  for (const value of [...DB, DB_NOW]) await cliOk(['secrets', 'set', 'DATABASE_URL', '-p', P, '-e', E], value);
  await cliOk(['secrets', 'set', 'STRIPE_KEY', '-p', P, '-e', E], STRIPE);
  token = await cliOk([
    'leases',
    'issue',
    '-p',
    P,
    '-e',
    E,
    '--scope',
    'DATABASE_URL,STRIPE_KEY',
    '--reason',
    'history screens',
  ]);
  app = await launchApp(server.url, daemon.socket);
  page = app.page;
}, 180_000);

afterAll(async () => {
  // Each one even when another fails: a daemon must not outlive a failed run.
  const ends = [() => app?.close(), () => server?.close(), () => daemon?.stop()];
  for (const end of ends) await Promise.resolve(end()).catch((err: unknown) => console.error(err));
});

describe('history and trash in the desktop app', { timeout: 90_000 }, () => {
  it("shows a secret's versions and rolls back to an earlier one", async () => {
    await page.evaluate((hash) => (location.hash = hash), `#/p/${P}/e/${E}/secrets`);
    await page.locator('tr[data-key="DATABASE_URL"]').waitFor();
    await page.getByRole('button', { name: 'History of DATABASE_URL' }).click();
    await dialog().getByRole('heading', { name: 'History of DATABASE_URL' }).waitFor();
    const rows = dialog().locator('tr[data-version]');
    await expect.poll(() => rows.count()).toBe(3);
    expect(await rows.first().textContent()).toContain('Current');
    // Values never show in the history.
    expect(await dialog().textContent()).not.toContain('billing:');
    await screenshot(page, '28-secret-history');

    await dialog().getByRole('button', { name: 'Roll back DATABASE_URL to version 1' }).click();
    await dialog().getByRole('button', { name: 'Confirm roll back to version 1' }).click();
    await dialog().getByText('DATABASE_URL holds the value of version 1 again, as version 4.').waitFor();
    await expect.poll(() => rows.count()).toBe(4);
    expect(await dialog().locator('tr[data-version="4"]').textContent()).toContain('Rolled back to v1');
    await screenshot(page, '29-secret-rolled-back');

    expect(await cliOk(['secrets', 'get', 'DATABASE_URL', '-p', P, '-e', E])).toBe(DB[0]);
    expect(await cliOk(['secrets', 'get', 'DATABASE_URL', '--token', token])).toBe(DB[0]);
    await dialog().getByRole('button', { name: 'Close' }).first().click();
  });

  it('deletes a secret to the trash and restores it from there', async () => {
    await page.getByRole('button', { name: 'Delete STRIPE_KEY' }).click();
    expect(await dialog().textContent()).toContain('stays in the trash below for 30 days');
    await dialog().getByRole('button', { name: 'Delete secret' }).click();
    const trash = page.getByRole('region', { name: 'Trash' });
    await trash.locator('tr[data-key="STRIPE_KEY"]').waitFor();
    await expect.poll(() => page.locator('.secrets-table tr[data-key="STRIPE_KEY"]').count()).toBe(0);
    await screenshot(page, '30-trash');

    const gone = await daemon.cli(['secrets', 'get', 'STRIPE_KEY', '--token', token]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('no secret STRIPE_KEY');
    expect(JSON.parse(await cliOk(['secrets', 'trash', '-p', P, '-e', E, '--json']))).toMatchObject({
      trash: [{ key: 'STRIPE_KEY', version: 1 }],
    });

    await trash.getByRole('button', { name: 'Restore STRIPE_KEY' }).click();
    await trash.getByText('STRIPE_KEY is back, as version 2.').waitFor();
    await page.locator('.secrets-table tr[data-key="STRIPE_KEY"]').waitFor();
    expect(await trash.locator('tr[data-key]').count()).toBe(0);
    expect(await cliOk(['secrets', 'get', 'STRIPE_KEY', '-p', P, '-e', E])).toBe(STRIPE);
    expect(await cliOk(['secrets', 'get', 'STRIPE_KEY', '--token', token])).toBe(STRIPE);
    const audit = JSON.parse(await cliOk(['audit', 'list', '-p', P, '--json'])) as {
      entries: Array<{ event: string }>;
    };
    const events = audit.entries.map((e) => e.event);
    expect(events).toEqual(expect.arrayContaining(['SecretRolledBack', 'SecretDeleted', 'SecretRestored']));
  });

  it('a refused restore shows why (a live secret of that name came back meanwhile)', async () => {
    await cliOk(['secrets', 'delete', 'STRIPE_KEY', '-p', P, '-e', E]);
    const trash = page.getByRole('region', { name: 'Trash' });
    await trash.locator('tr[data-key="STRIPE_KEY"]').waitFor();
    // Stop the event stream reaching the page, so the screen still offers Restore when the key is live again.
    await page.evaluate(() => {
      (window as unknown as { __bellaEmit?: unknown }).__bellaEmit = undefined;
    });
    await cliOk(['secrets', 'set', 'STRIPE_KEY', '-p', P, '-e', E], 'sk_live_new');
    await trash.getByRole('button', { name: 'Restore STRIPE_KEY' }).click();
    await trash.getByText('a live secret STRIPE_KEY exists in payments-api/production').waitFor();
    expect(await cliOk(['secrets', 'get', 'STRIPE_KEY', '-p', P, '-e', E])).toBe('sk_live_new');
  });

  it('ran without page errors', () => {
    expect(app.errors).toEqual([]);
  });
});
