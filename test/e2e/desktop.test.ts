import fs from 'node:fs';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRenderer, launchApp, screenshot, serveDir, startDaemon, type TestApp, type TestDaemon } from './harness';
import { ensureBuilt } from '../helpers/build';

// The built renderer in Debian's Chromium, window.bella bridged through the real relay to a real
// daemon, and the real CLI beside it. Steps run in order and build on one another.

const P = 'payments-api';
const E = 'production';
const SECRETS = {
  DATABASE_URL: 'postgres://billing:correct-horse@db.internal:5432/payments',
  STRIPE_KEY: 'sk_live_51Hx9QeLmN0pQrStUv',
  STRIPE_WEBHOOK_SECRET: 'whsec_4f1c9a7e2b8d6035',
};

let daemon: TestDaemon;
let server: { url: string; close(): Promise<void> };
let app: TestApp;
let page: Page;
let uiToken = '';
let uiLeaseId = '';
let cliLeaseId = '';

function dialog(): Locator {
  return page.getByRole('dialog');
}

async function openTab(name: RegExp): Promise<void> {
  await page.getByRole('tab', { name }).click();
}

async function readWithToken(key: string, token: string) {
  return daemon.cli(['secrets', 'get', key, '--token', token]);
}

beforeAll(async () => {
  ensureBuilt();
  server = await serveDir(await buildRenderer());
  daemon = await startDaemon();
  app = await launchApp(server.url, daemon.socket);
  page = app.page;
}, 180_000);

afterAll(async () => {
  // Each one even when another fails: a daemon must not outlive a failed run.
  const ends = [() => app?.close(), () => server?.close(), () => daemon?.stop()];
  for (const end of ends) await Promise.resolve(end()).catch((err: unknown) => console.error(err));
});

describe('bella desktop renderer against a real daemon', { timeout: 90_000 }, () => {
  it('creates a project and an environment from the first screen', async () => {
    await expect.poll(() => page.getByRole('heading', { name: 'Welcome to bella' }).isVisible()).toBe(true);
    await screenshot(page, '01-welcome');

    await page.getByRole('button', { name: 'Create your first project' }).click();
    await dialog().getByLabel('Name').fill('Payments API');
    expect(await dialog().getByLabel('Slug').inputValue()).toBe(P);
    await screenshot(page, '02-new-project');
    await dialog().getByRole('button', { name: 'Create project' }).click();

    await expect.poll(() => page.getByRole('heading', { name: 'No environments yet' }).isVisible()).toBe(true);
    await screenshot(page, '03-project-empty');

    await page.getByRole('button', { name: 'Add an environment' }).click();
    await dialog().getByLabel('Name').fill('Production');
    await dialog().getByRole('button', { name: 'Create environment' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'No secrets here yet' }).isVisible()).toBe(true);
    expect(page.url()).toContain(`#/p/${P}/e/${E}/secrets`);

    const { environments } = await daemon.client.call('listEnvironments', { project: P });
    expect(environments.map((e) => e.slug)).toEqual([E]);
    await screenshot(page, '04-secrets-empty');

    // A second project, made outside the window, fills the sidebar for the screenshots.
    await daemon.client.call('createProject', { slug: 'marketing-site', name: 'Marketing site' });
    await daemon.client.call('createEnvironment', {
      project: 'marketing-site',
      slug: 'production',
      name: 'Production',
    });
    await daemon.client.call('createEnvironment', { project: P, slug: 'staging', name: 'Staging' });
    await expect.poll(() => page.getByRole('link', { name: 'Marketing site' }).isVisible()).toBe(true);
  });

  it('adds three secrets, imports a .env, and keeps values masked until revealed', async () => {
    for (const [key, value] of Object.entries(SECRETS)) {
      await page.locator('.toolbar').getByRole('button', { name: 'Add secret' }).click();
      await dialog().getByLabel('Key').fill(key);
      await dialog().getByLabel('Value', { exact: true }).fill(value);
      if (key === 'STRIPE_WEBHOOK_SECRET') await screenshot(page, '05-add-secret');
      await dialog().getByRole('button', { name: 'Add secret' }).click();
      await page.locator(`tr[data-key="${key}"]`).waitFor();
    }

    // Escape closes a dialog and gives focus back to the button that opened it.
    const addButton = page.locator('.toolbar').getByRole('button', { name: 'Add secret' });
    await addButton.click();
    await expect.poll(() => dialog().isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog().count()).toBe(0);
    expect(await addButton.evaluate((el) => el === document.activeElement)).toBe(true);

    await page.getByRole('button', { name: 'Import .env' }).click();
    // A line the dotenv library would skip is named with its number, as `secrets push` names it.
    await dialog().getByLabel('.env contents').fill('GOOD=1\nbad line here\nAPI KEY=foo\n');
    await dialog().getByRole('button', { name: 'Review', exact: true }).click();
    const problems = dialog().getByRole('list', { name: 'Lines that cannot be imported' });
    await expect.poll(() => problems.textContent()).toContain('line 2 is not a KEY=value line');
    expect(await problems.textContent()).toContain('line 3 is not a KEY=value line: "API KEY" is not a key');
    await dialog().getByRole('button', { name: 'Back' }).click();
    await dialog()
      .getByLabel('.env contents')
      .fill(
        '# from the old server\nREDIS_URL=redis://cache.internal:6379/0\nexport SENTRY_DSN="https://k@o1.ingest.sentry.io/42"\n',
      );
    await dialog().getByRole('button', { name: 'Review', exact: true }).click();
    await dialog().getByRole('button', { name: 'Import 2 secrets' }).waitFor();
    await screenshot(page, '06-import-env');
    await dialog().getByRole('button', { name: 'Import 2 secrets' }).click();
    await page.locator('tr[data-key="SENTRY_DSN"]').waitFor();

    const table = page.locator('.secrets-table');
    expect(await table.textContent()).not.toContain(SECRETS.STRIPE_KEY);
    await page.getByRole('button', { name: 'Reveal STRIPE_KEY' }).first().click();
    await expect
      .poll(() => page.locator('tr[data-key="STRIPE_KEY"] .secret-value').textContent())
      .toBe(SECRETS.STRIPE_KEY);
    expect(await table.textContent()).not.toContain(SECRETS.DATABASE_URL);
    await screenshot(page, '07-secrets');
    await page.getByRole('button', { name: 'Hide STRIPE_KEY' }).first().click();
    expect(await table.textContent()).not.toContain(SECRETS.STRIPE_KEY);

    const { secrets } = await daemon.client.call('listSecrets', { project: P, environment: E });
    expect(secrets.map((s) => s.key).sort()).toEqual([...Object.keys(SECRETS), 'REDIS_URL', 'SENTRY_DSN'].sort());
  });

  it('issues a scoped lease and shows its token once; the token reads its keys through the CLI', async () => {
    await openTab(/Leases/);
    await page.getByRole('heading', { name: 'No active leases' }).waitFor();
    await screenshot(page, '08-leases-empty');

    await page.locator('.toolbar').getByRole('button', { name: 'Issue lease' }).click();
    await dialog().getByRole('button', { name: 'Issue lease' }).click();
    await dialog().getByText('Pick at least one key').waitFor();
    await dialog().getByRole('button', { name: 'DATABASE_URL' }).click();
    await dialog().getByLabel('Or type keys and globs').fill('STRIPE_*');
    await dialog().getByRole('radio', { name: '4 hours' }).click();
    await dialog().getByLabel('Reason').fill('Refund agent for the March disputes');
    await dialog().getByText('Grants 3 keys: DATABASE_URL, STRIPE_KEY, STRIPE_WEBHOOK_SECRET').waitFor();
    await screenshot(page, '09-issue-lease');
    await dialog().getByRole('button', { name: 'Issue lease' }).click();

    const tokenEl = dialog().getByTestId('lease-token');
    await tokenEl.waitFor();
    uiToken = ((await tokenEl.textContent()) ?? '').trim();
    expect(uiToken).toMatch(/^bax-[a-z0-9]{16}-/);
    uiLeaseId = uiToken.split('-')[1] as string;
    expect(await dialog().textContent()).toContain('you will not see it again');
    await dialog().getByRole('button', { name: 'Copy token' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(uiToken);
    await screenshot(page, '10-token-once');
    await dialog().getByRole('button', { name: 'Done' }).click();
    await page.locator(`tr[data-lease="${uiLeaseId}"]`).waitFor();

    const stripe = await readWithToken('STRIPE_KEY', uiToken);
    expect(stripe.stdout.trim()).toBe(SECRETS.STRIPE_KEY);
    const db = await readWithToken('DATABASE_URL', uiToken);
    expect(db.stdout.trim()).toBe(SECRETS.DATABASE_URL);
    const outside = await readWithToken('REDIS_URL', uiToken);
    expect(outside.code).not.toBe(0);
    expect(outside.stdout).not.toContain('redis://');
  });

  it('shows a lease issued from the CLI in the open window without a reload', async () => {
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
    const issued = await daemon.cli([
      'leases',
      'issue',
      '--project',
      P,
      '--environment',
      E,
      '--scope',
      'REDIS_URL,SENTRY_DSN',
      '--ttl',
      '7d',
      '--reason',
      'Contractor onboarding – Jane Doe',
      '--json',
    ]);
    expect(issued.code).toBe(0);
    cliLeaseId = (JSON.parse(issued.stdout) as { lease: { id: string } }).lease.id;
    await page.locator(`tr[data-lease="${cliLeaseId}"]`).waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    expect(await page.locator(`tr[data-lease="${cliLeaseId}"]`).textContent()).toContain('Contractor onboarding');
    await screenshot(page, '11-leases');
  });

  it('revokes the lease in the UI, after which the CLI is refused', async () => {
    await page.getByRole('button', { name: `Revoke lease ${uiLeaseId}` }).click();
    await dialog().getByLabel('Why revoke? (optional)').fill('Disputes handled');
    await screenshot(page, '12-revoke');
    await dialog().getByRole('button', { name: 'Revoke lease' }).click();
    await page.getByText('Its token is refused from now on.').waitFor();
    await expect.poll(() => page.locator(`tr[data-lease="${uiLeaseId}"]`).count()).toBe(0);

    const refused = await readWithToken('STRIPE_KEY', uiToken);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).not.toContain(SECRETS.STRIPE_KEY);
    expect(refused.stderr).toMatch(/revoked/i);

    await page.getByRole('radio', { name: /Active/ }).focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    expect(await page.getByRole('radio', { name: /Revoked/ }).getAttribute('aria-checked')).toBe('true');
    await page.locator(`tr[data-lease="${uiLeaseId}"] .badge`).getByText('Revoked').waitFor();
    await page.getByRole('radio', { name: /Active/ }).click();
  });

  it('sets a lease policy with a plain-words preview and caps the long lease', async () => {
    await openTab(/Lease policy/);
    await page.getByLabel('Tokens last').fill('24h');
    await page.getByLabel('Warn before expiry').fill('2h');
    expect(await page.getByTestId('policy-preview').textContent()).toBe(
      'Tokens last 24 h; you are warned 2 h before they expire.',
    );
    await page.getByLabel('Warn before expiry').fill('1d');
    await page.getByText('make it shorter than the lifetime').waitFor();
    await page.getByRole('button', { name: '2h', exact: true }).click();
    await page.getByRole('button', { name: 'Set policy' }).click();
    await page.getByText('1 active lease was shortened to end within 24 h.').waitFor();
    await screenshot(page, '13-policy');

    const { policy } = await daemon.client.call('getLeasePolicy', { project: P, environment: E });
    expect(policy).toEqual({ ttlSeconds: 86400, warnBeforeSeconds: 7200 });
    const { lease } = await daemon.client.call('getLease', { id: cliLeaseId });
    expect(Date.parse(lease.expiresAt) - Date.now()).toBeLessThanOrEqual(86400_000);
  });

  it('warns about a lease inside the policy window and renews it with one click', async () => {
    await page.getByLabel('Tokens last').fill('40s');
    await page.getByLabel('Warn before expiry').fill('30s');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText(/Policy saved/).waitFor();
    await openTab(/Leases/);

    const banner = page.getByRole('region', { name: 'Leases expiring soon' });
    await banner.waitFor({ timeout: 20_000 });
    expect(await banner.textContent()).toContain('Contractor onboarding');
    await screenshot(page, '14-expiring-banner');
    await banner.getByRole('button', { name: 'Renew Contractor onboarding – Jane Doe' }).click();
    await expect.poll(() => banner.count()).toBe(0);
    const { lease } = await daemon.client.call('getLease', { id: cliLeaseId });
    expect(lease.renewals).toBe(1);

    await openTab(/Lease policy/);
    await page.getByLabel('Tokens last').fill('24h');
    await page.getByLabel('Warn before expiry').fill('2h');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText(/Policy saved/).waitFor();
  });

  it('expires all leases only after the environment slug is typed', async () => {
    const fresh = await daemon.client.call('issueLease', {
      project: P,
      environment: E,
      scope: ['SENTRY_DSN'],
      ttlSeconds: 3600,
      reason: 'Nightly error digest',
    });
    expect((await readWithToken('SENTRY_DSN', fresh.token)).code).toBe(0);
    await openTab(/Leases/);
    await page.locator(`tr[data-lease="${fresh.lease.id}"]`).waitFor();

    await page.getByRole('button', { name: 'Expire all' }).click();
    const confirm = dialog().getByRole('button', { name: 'Expire all and rotate' });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog().getByLabel(`Type ${E} to confirm`).fill('prod');
    expect(await confirm.isDisabled()).toBe(true);
    await screenshot(page, '15-expire-all');
    await dialog().getByLabel(`Type ${E} to confirm`).fill(E);
    await confirm.click();
    await page
      .getByText(/every token minted before now is refused\. The secret values themselves are unchanged/)
      .waitFor();
    await page.getByRole('heading', { name: 'No active leases' }).waitFor();

    const refused = await readWithToken('SENTRY_DSN', fresh.token);
    expect(refused.code).not.toBe(0);
    const { leases } = await daemon.client.call('listLeases', { project: P, environment: E });
    expect(leases).toEqual([]);
  });

  it('filters the audit trail, verifies its chain and exports it', async () => {
    await openTab(/Audit/);
    await page.locator('.audit-table').waitFor();
    // Verification reads the whole trail: it runs when asked, never by itself.
    expect(await page.getByText('Hash chain verified').count()).toBe(0);
    await page.getByRole('button', { name: 'Verify chain' }).click();
    await page.getByText('Hash chain verified').waitFor();
    await screenshot(page, '16-audit');

    const rows = page.locator('.audit-table tbody tr');
    await page.getByLabel('Event', { exact: true }).selectOption('LeaseRevoked');
    await expect
      .poll(async () => (await rows.evaluateAll((trs) => trs.map((t) => t.getAttribute('data-event')))).join())
      .toMatch(/^LeaseRevoked(,LeaseRevoked)*$/);
    const revokedRows = await rows.count();
    expect(revokedRows).toBeGreaterThanOrEqual(2);

    await page.getByLabel('Event', { exact: true }).selectOption('');
    await page.getByLabel('Lease', { exact: true }).fill(uiLeaseId);
    await expect
      .poll(async () => {
        const texts = await rows.allTextContents();
        return texts.length > 0 && texts.every((t) => t.includes(uiLeaseId));
      })
      .toBe(true);
    const events = await rows.evaluateAll((trs) => trs.map((t) => t.getAttribute('data-event')));
    expect(events).toEqual(expect.arrayContaining(['LeaseIssued', 'LeaseRevoked']));

    await page.getByLabel('Outcome', { exact: true }).selectOption('Denied');
    await expect
      .poll(async () => {
        const texts = await rows.allTextContents();
        return texts.length > 0 && texts.every((t) => t.includes('Denied') && t.includes(uiLeaseId));
      })
      .toBe(true);
    await screenshot(page, '17-audit-filtered');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    const csv = fs.readFileSync((await download.path()) as string, 'utf8');
    expect(download.suggestedFilename()).toMatch(/^bella-audit-payments-api-production-.*\.csv$/);
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe(
      'seq,ts,event,outcome,actor,project,environment,leaseId,keys,reason,message,source,count,hash',
    );
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.slice(1).every((l) => l.includes(',Denied,') && l.includes(uiLeaseId))).toBe(true);
    expect(csv).not.toContain(uiToken);
  });

  it('shows the project overview with its environments', async () => {
    await page.getByRole('link', { name: 'Payments API' }).click();
    await page.getByRole('button', { name: /Production/ }).waitFor();
    await screenshot(page, '18-project');
    expect(await page.locator('.cards .card').count()).toBe(2);
  });

  it('ran without page errors, and its Content-Security-Policy refuses inline script', async () => {
    expect(app.errors).toEqual([]);
    const ran = await page.evaluate(() => {
      const w = window as unknown as { __inlineRan?: boolean };
      const s = document.createElement('script');
      s.textContent = 'window.__inlineRan = true';
      document.body.append(s);
      return w.__inlineRan === true;
    });
    expect(ran).toBe(false);
    await expect.poll(() => app.errors.some((e) => e.includes('Content Security Policy'))).toBe(true);
  });
});
