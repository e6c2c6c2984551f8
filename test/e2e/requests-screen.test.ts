import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest } from '../../daemon/api/requests';
import { cliScript, ensureBuilt } from '../helpers/build';
import { buildRenderer, launchApp, screenshot, serveDir, startDaemon, type TestApp, type TestDaemon } from './harness';
import { freePort } from '../helpers/daemon';

// The Requests inbox in Debian's Chromium against a real daemon: alice (a member with a request
// grant) joins over the loopback listener with the real CLI on "her machine" and asks; the owner
// approves one request with a shorter ttl, denies one with a reason, and reviews a break-glass grant.

const P = 'payments-api';
const E = 'production';

let daemon: TestDaemon;
let server: { url: string; close(): Promise<void> };
let app: TestApp;
let page: Page;
let aliceHome = '';

function dialog(): Locator {
  return page.getByRole('dialog');
}

function row(id: string): Locator {
  return page.locator(`tr[data-request="${id}"]`);
}

/** The real CLI on alice's machine: her own HOME and config dir; nothing of the owner's. */
function alice(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliScript, ...args],
      {
        env: {
          PATH: process.env.PATH,
          HOME: aliceHome,
          BELLA_CONFIG_DIR: path.join(aliceHome, 'config'),
          NO_COLOR: '1',
        },
        cwd: aliceHome,
        timeout: 20_000,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** Alice asks with `bella request … --no-wait --json`; returns her request. */
async function ask(...args: string[]): Promise<AccessRequest> {
  const res = await alice(['request', '-p', P, '-e', E, '--no-wait', '--json', ...args]);
  expect(res.code, res.stderr).toBe(0);
  return (JSON.parse(res.stdout) as { request: AccessRequest }).request;
}

async function get(id: string): Promise<AccessRequest> {
  return (await daemon.client.call('getAccessRequest', { id })).request;
}

let toApprove: AccessRequest;
let toDeny: AccessRequest;

beforeAll(async () => {
  ensureBuilt();
  aliceHome = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-alice-'));
  server = await serveDir(await buildRenderer('renderer-requests-screen'));
  daemon = await startDaemon();
  const c = daemon.client;
  await c.call('createProject', { slug: P, name: 'Payments API' });
  await c.call('createEnvironment', { project: P, slug: E, name: 'Production' });
  await c.call('setLeasePolicy', {
    project: P,
    environment: E,
    ttlSeconds: 7200,
    warnBeforeSeconds: 600,
    breakGlassSeconds: 1800,
  });
  await c.call('importSecrets', {
    project: P,
    environment: E,
    dotenv: 'DATABASE_URL=postgres://billing:correct-horse@db.internal:5432/payments\nSTRIPE_KEY=sk_live_51Hx9Qe\n',
  });
  await c.call('enableListener', { address: `127.0.0.1:${await freePort()}` });
  const invite = await daemon.cli(['team', 'invite', 'alice', '--role', 'member', '--grant', `${P}/${E}:request`]);
  expect(invite.code, invite.stderr).toBe(0);
  const joined = await alice(['team', 'join', invite.stdout.trim()]);
  expect(joined.code, joined.stderr).toBe(0);
  toApprove = await ask('--scope', 'DATABASE_URL', '--ttl', '1h', '--reason', 'INC-4521 payments failing');
  toDeny = await ask('--scope', 'STRIPE_KEY', '--ttl', '8h', '--reason', 'look at refunds');
  app = await launchApp(server.url, daemon.socket);
  page = app.page;
  await page.getByRole('link', { name: 'Payments API' }).waitFor();
}, 180_000);

afterAll(async () => {
  const ends = [() => app?.close(), () => server?.close(), () => daemon?.stop()];
  for (const end of ends) await Promise.resolve(end()).catch((err: unknown) => console.error(err));
  if (aliceHome) fs.rmSync(aliceHome, { recursive: true, force: true });
});

describe('the Requests inbox against a real daemon', { timeout: 90_000 }, () => {
  it('lists the pending requests first, with who asks for what, for how long and why', async () => {
    await page.getByRole('link', { name: 'Requests', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Requests', exact: true }).waitFor();
    await row(toApprove.id).waitFor();
    expect(await page.locator('.page-meta').textContent()).toContain('2 pending requests');
    const first = row(toApprove.id);
    expect(await first.textContent()).toContain('alice');
    expect(await first.getByRole('list', { name: `Keys of ${toApprove.id}` }).textContent()).toBe('DATABASE_URL');
    expect(await first.textContent()).toContain('INC-4521 payments failing');
    expect(await first.textContent()).toContain('1h');
    expect(await first.textContent()).toMatch(/\d+m \d\ds left/);
    expect(await page.getByRole('heading', { name: 'History' }).count()).toBe(0);
    await screenshot(page, '40-requests-pending');
  });

  it('approves one with a shorter ttl: her lease starts now, for 15m, and her token waits for her', async () => {
    await row(toApprove.id)
      .getByRole('button', { name: `Approve alice's request ${toApprove.id}` })
      .click();
    await dialog().getByRole('heading', { name: "Approve alice's request?" }).waitFor();
    expect(await dialog().textContent()).toContain(`alice asks for ${P}/${E}: DATABASE_URL for 1h`);
    // Only shorter than asked: a longer ttl is refused here, before the daemon is asked.
    await dialog().getByLabel('Shorter lifetime (optional)').fill('2h');
    await dialog().getByText('Only shorter than asked (1h).').waitFor();
    expect(await dialog().getByRole('button', { name: 'Approve', exact: true }).isDisabled()).toBe(true);
    await dialog().getByRole('button', { name: '15m', exact: true }).click();
    await dialog().getByLabel('Note (optional)').fill('on call');
    await screenshot(page, '41-requests-approve');
    await dialog().getByRole('button', { name: 'Approve', exact: true }).click();
    await page
      .getByRole('status')
      .getByText(/Approved alice's request: lease \w+ for 15m/)
      .waitFor();
    expect(await dialog().count()).toBe(0);

    const approved = await get(toApprove.id);
    expect(approved).toMatchObject({ status: 'approved', decidedBy: 'owner', decision: 'on call', tokenWaiting: true });
    const { lease } = await daemon.client.call('getLease', { id: approved.leaseId! });
    expect(Date.parse(lease.expiresAt) - Date.parse(lease.issuedAt)).toBe(15 * 60_000);
    // In the history now, saying who approved it and why.
    const done = row(toApprove.id);
    await expect.poll(() => done.locator('.badge').textContent()).toBe('Approved');
    expect(await done.textContent()).toContain('by owner: on call');

    // Her token is hers to fetch, once: it reads what she asked for.
    const token = await alice(['requests', 'token', toApprove.id]);
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout.trim()).toMatch(/^bax-/);
  });

  it('denies one only with a reason, which she is told', async () => {
    await row(toDeny.id)
      .getByRole('button', { name: `Deny alice's request ${toDeny.id}` })
      .click();
    await dialog().getByRole('heading', { name: "Deny alice's request?" }).waitFor();
    await dialog().getByRole('button', { name: 'Deny', exact: true }).click();
    await dialog().getByText('Say why: she sees the reason.').waitFor();
    expect((await get(toDeny.id)).status).toBe('pending');
    await dialog().getByLabel('Reason').fill('use staging for refunds');
    await screenshot(page, '42-requests-deny');
    await dialog().getByRole('button', { name: 'Deny', exact: true }).click();
    await page.getByRole('status').getByText("Denied alice's request: use staging for refunds").waitFor();

    expect(await get(toDeny.id)).toMatchObject({ status: 'denied', decision: 'use staging for refunds' });
    await expect.poll(() => row(toDeny.id).locator('.badge').textContent()).toBe('Denied');
    await page.getByRole('heading', { name: 'Nothing waits for you' }).waitFor();
    const told = await alice(['requests', 'token', toDeny.id]);
    expect(told.code).toBe(1);
    expect(told.stderr).toContain('was denied: use staging for refunds');
  });

  it('shows a break-glass grant as it happens, with Review; opened from its link it is marked', async () => {
    const glass = await alice([
      'request',
      '-p',
      P,
      '-e',
      E,
      '--scope',
      'DATABASE_URL',
      '--reason',
      'payments down',
      '--break-glass',
      '--json',
    ]);
    expect(glass.code, glass.stderr).toBe(0);
    const { lease } = JSON.parse(glass.stdout) as { lease: { id: string } };
    const { requests } = await daemon.client.call('listAccessRequests', { unreviewed: true });
    const request = requests.find((x) => x.leaseId === lease.id)!;
    expect(request).toMatchObject({ breakGlass: true, requester: 'alice' });

    // No reload: the daemon's event brings it in.
    const r = row(request.id);
    await r.waitFor();
    expect(await r.locator('.badge').textContent()).toBe('Break-glass');
    expect(await r.textContent()).toContain('waits for your review');
    expect(await page.locator('.page-meta').textContent()).toContain('1 break-glass grant to review');

    // Where a desktop notification leads: the request, marked.
    await page.goto(`${server.url}#/requests/${request.id}`);
    await r.waitFor();
    expect(await r.getAttribute('aria-current')).toBe('true');
    await screenshot(page, '43-requests-history');

    await r.getByRole('button', { name: `Review alice's break-glass ${request.id}` }).click();
    await page.getByRole('status').getByText("Reviewed alice's break-glass grant.").waitFor();
    expect(await get(request.id)).toMatchObject({ reviewedBy: 'owner' });
    await expect.poll(() => r.textContent()).toContain('reviewed by owner');
    expect(await r.getByRole('button', { name: /Review/ }).count()).toBe(0);
    expect(app.errors).toEqual([]);
  });
});
