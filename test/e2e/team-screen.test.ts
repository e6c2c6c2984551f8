import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WhoAmI } from '../../daemon/api/team';
import { ensureBuilt } from '../helpers/build';
import {
  buildRenderer,
  launchApp,
  ROOT,
  screenshot,
  serveDir,
  startDaemon,
  type TestApp,
  type TestDaemon,
} from './harness';
import { freePort } from '../helpers/daemon';

// The Team screen in Debian's Chromium against a real daemon: the listener on loopback, an invite
// made on the screen, redeemed by the real CLI as a teammate on "her machine" (her own HOME and
// config dir, no data dir of the owner's), then grant, take back, and remove with her leases.

const P = 'payments-api';
const E = 'production';

let daemon: TestDaemon;
let server: { url: string; close(): Promise<void> };
let app: TestApp;
let page: Page;
let aliceHome = '';
let aliceCode = '';
let aliceDevice = '';
let aliceLease = '';

function dialog(): Locator {
  return page.getByRole('dialog');
}

function aliceRow(): Locator {
  return page.locator('tr[data-member="alice"]');
}

async function openView(link: string, heading: string): Promise<void> {
  await page.getByRole('link', { name: link, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor();
}

/** The real CLI on alice's machine: her own HOME and config dir; nothing of the owner's. */
function alice(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, 'dist/cli.cjs'), ...args],
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

beforeAll(async () => {
  ensureBuilt();
  aliceHome = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-alice-'));
  server = await serveDir(await buildRenderer('renderer-team-screen'));
  daemon = await startDaemon();
  const c = daemon.client;
  await c.call('createProject', { slug: P, name: 'Payments API' });
  await c.call('createEnvironment', { project: P, slug: E, name: 'Production' });
  await c.call('createEnvironment', { project: P, slug: 'staging', name: 'Staging' });
  await c.call('setLeasePolicy', { project: P, environment: E, ttlSeconds: 3600, warnBeforeSeconds: 600 });
  await c.call('importSecrets', {
    project: P,
    environment: E,
    dotenv: 'DATABASE_URL=postgres://billing:correct-horse@db.internal:5432/payments\nSTRIPE_KEY=sk_live_51Hx9Qe\n',
  });
  app = await launchApp(server.url, daemon.socket);
  page = app.page;
  await page.getByRole('link', { name: 'Payments API' }).waitFor();
}, 180_000);

afterAll(async () => {
  const ends = [() => app?.close(), () => server?.close(), () => daemon?.stop()];
  for (const end of ends) await Promise.resolve(end()).catch((err: unknown) => console.error(err));
  if (aliceHome) fs.rmSync(aliceHome, { recursive: true, force: true });
});

describe('the Team screen against a real daemon', { timeout: 90_000 }, () => {
  it('says invites need the listener while it is off, and leads to it', async () => {
    await openView('Team', 'Team');
    await page.getByRole('heading', { name: 'No teammates yet' }).waitFor();
    const note = page.getByTestId('listener-off');
    await note.waitFor();
    expect(await note.textContent()).toContain('The listener is off');
    expect(await page.getByRole('button', { name: 'Invite', exact: true }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Invite a teammate' }).isDisabled()).toBe(true);
    await screenshot(page, '31-team-listener-off');

    // The note's link opens the listener screen; enabled there on loopback.
    await note.getByRole('link', { name: 'Team access' }).click();
    await page.getByRole('heading', { level: 1, name: 'Team access' }).waitFor();
    const port = await freePort();
    await page.getByLabel('Address').fill(`127.0.0.1:${port}`);
    await page.getByRole('button', { name: 'Enable listener' }).click();
    await page.getByText(`Serving the token plane on 127.0.0.1:${port}.`).waitFor();

    await openView('Team', 'Team');
    await page.getByRole('heading', { name: 'No teammates yet' }).waitFor();
    expect(await page.getByTestId('listener-off').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Invite', exact: true }).isEnabled()).toBe(true);
  });

  it('invites alice from the keyboard and shows her code once, with the line she runs', async () => {
    const invite = page.getByRole('button', { name: 'Invite', exact: true });
    await invite.focus();
    await page.keyboard.press('Enter');
    await dialog().getByRole('heading', { name: 'Invite a teammate' }).waitFor();

    // The daemon's rules are checked before it is asked.
    await dialog().getByRole('button', { name: 'Create invite' }).click();
    await dialog().getByText('Lowercase letters, digits').waitFor();

    await dialog().getByLabel('Name').fill('alice');
    expect(await dialog().getByRole('radio', { name: 'Member' }).getAttribute('aria-checked')).toBe('true');
    await dialog().getByLabel('Project').selectOption(P);
    await dialog().getByLabel('Environment').selectOption(E);
    await dialog().getByRole('radio', { name: 'Issue' }).click();
    await dialog().getByRole('button', { name: 'Add grant' }).click();
    await dialog().getByRole('list', { name: 'Grants of the invite' }).getByText(`${P}/${E}:issue`).waitFor();
    await dialog().getByRole('button', { name: '1h', exact: true }).click();
    expect(await dialog().getByLabel('Code expires after').inputValue()).toBe('1h');
    await screenshot(page, '32-team-invite');
    await dialog().getByRole('button', { name: 'Create invite' }).click();

    const codeEl = dialog().getByTestId('invite-code');
    await codeEl.waitFor();
    aliceCode = ((await codeEl.textContent()) ?? '').trim();
    expect(aliceCode).toMatch(/^bella-invite-[A-Za-z0-9_-]+$/);
    expect(await dialog().textContent()).toContain('you will not see it again');
    expect(await dialog().getByTestId('join-line').textContent()).toBe(`bella team join ${aliceCode}`);
    await dialog().getByRole('button', { name: 'Copy code' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(aliceCode);
    await dialog().getByRole('button', { name: 'Copy command' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`bella team join ${aliceCode}`);
    await screenshot(page, '33-team-invite-code');
    await dialog().getByRole('button', { name: 'Done' }).click();
    expect(await dialog().count()).toBe(0);

    // The invite waits, listed without its code; the code is nowhere on the page any more.
    const open = page.locator('tr[data-invite="alice"]');
    await open.waitFor();
    expect(await open.textContent()).toContain(`${P}/${E}:issue`);
    expect(await page.locator('body').textContent()).not.toContain(aliceCode);
    const { invites } = await daemon.client.call('listTeam', {});
    expect(invites).toMatchObject([{ name: 'alice', role: 'member', grants: [{ project: P, environment: E }] }]);
  });

  it('shows alice with her device once she joins with the real CLI', async () => {
    const joined = await alice(['team', 'join', aliceCode, '--json']);
    expect(joined.code, joined.stderr).toBe(0);
    const who = (JSON.parse(joined.stdout) as { whoami: WhoAmI }).whoami;
    expect(who).toMatchObject({ name: 'alice', role: 'member' });
    aliceDevice = who.device!;
    expect(aliceDevice).toMatch(/^sha256:[0-9a-f]{64}$/);

    // No reload: the screen reads the team again while an invite is open.
    await aliceRow().waitFor();
    await expect.poll(() => page.locator('tr[data-invite="alice"]').count()).toBe(0);
    const row = aliceRow();
    expect(await row.getByText('Member').count()).toBe(1);
    expect(await row.getByRole('list', { name: 'Grants of alice' }).textContent()).toBe(`${P}/${E}:issue`);
    const fp = row.locator('code.fingerprint');
    expect(await fp.getAttribute('title')).toBe(aliceDevice);
    expect(await fp.textContent()).toBe(`sha256:${aliceDevice.slice(7, 15)}…${aliceDevice.slice(-4)}`);
    expect(await row.textContent()).toContain('last seen just now');
    await row.getByRole('button', { name: 'Copy the device fingerprint of alice' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(aliceDevice);

    // An admin has every environment: the dialog asks for no grants.
    await page.getByRole('button', { name: 'Invite', exact: true }).click();
    await dialog().getByLabel('Name').fill('bob');
    await dialog().getByRole('radio', { name: 'Admin' }).click();
    expect(await dialog().getByText('Grants', { exact: true }).count()).toBe(0);
    await dialog().getByRole('button', { name: 'Create invite' }).click();
    await dialog().getByTestId('invite-code').waitFor();
    await dialog().getByRole('button', { name: 'I have sent the code' }).click();
    expect(await page.locator('tr[data-invite="bob"]').textContent()).toContain('Admin');
    await screenshot(page, '34-team');

    // Her plain bella reaches the owner's daemon as her device: she issues within her grant.
    const issued = await alice([
      'leases',
      'issue',
      '-p',
      P,
      '-e',
      E,
      '--scope',
      'DATABASE_URL',
      '--reason',
      'INC-4521',
      '--json',
    ]);
    expect(issued.code, issued.stderr).toBe(0);
    aliceLease = (JSON.parse(issued.stdout) as { lease: { id: string } }).lease.id;
    expect(aliceLease).toBeTruthy();
  });

  it('grants alice request access to staging, and takes it back', async () => {
    await aliceRow().getByRole('button', { name: 'Grant alice access' }).click();
    await dialog().getByRole('heading', { name: 'Grant alice access' }).waitFor();
    // It starts on an environment she has no grant on yet.
    expect(await dialog().getByLabel('Project').inputValue()).toBe(P);
    expect(await dialog().getByLabel('Environment').inputValue()).toBe('staging');
    await dialog().getByRole('radio', { name: 'Request' }).click();
    await screenshot(page, '36-team-grant');
    await dialog().getByRole('button', { name: 'Grant', exact: true }).click();
    await page.getByRole('status').getByText(`alice now has ${P}/${E}:issue, ${P}/staging:request.`).waitFor();
    expect(await dialog().count()).toBe(0);
    const grants = aliceRow().getByRole('list', { name: 'Grants of alice' });
    await grants.getByText(`${P}/staging:request`).waitFor();
    let { members } = await daemon.client.call('listTeam', {});
    expect(members[0]!.grants).toEqual([
      { project: P, environment: E, access: 'issue' },
      { project: P, environment: 'staging', access: 'request' },
    ]);
    // What she is to the server changed too.
    const who = JSON.parse((await alice(['whoami', '--json'])).stdout) as WhoAmI;
    expect(who.grants).toContainEqual({ project: P, environment: 'staging', access: 'request' });

    await aliceRow()
      .getByRole('button', { name: `Take back alice's ${P}/staging:request` })
      .click();
    await page.getByRole('status').getByText(`Took back alice's ${P}/staging:request.`).waitFor();
    await expect.poll(() => grants.textContent()).toBe(`${P}/${E}:issue`);
    ({ members } = await daemon.client.call('listTeam', {}));
    expect(members[0]!.grants).toEqual([{ project: P, environment: E, access: 'issue' }]);
  });

  it('removes alice and revokes her lease; her device is refused at its next request', async () => {
    await aliceRow().getByRole('button', { name: 'Remove alice' }).click();
    await dialog().getByRole('heading', { name: 'Remove alice from the team?' }).waitFor();
    const revoke = dialog().getByLabel('Also revoke her leases');
    expect(await revoke.isChecked()).toBe(true);
    // The destructive button is not where focus lands.
    const remove = dialog().getByRole('button', { name: 'Remove', exact: true });
    expect(await remove.evaluate((b) => b === document.activeElement)).toBe(false);
    await screenshot(page, '35-team-remove');
    await remove.click();
    await page.getByRole('status').getByText('Removed alice: 1 device refused from now on; 1 lease revoked.').waitFor();
    await aliceRow().waitFor({ state: 'detached' });
    await page.getByRole('heading', { name: 'No teammates yet' }).waitFor();

    const { members } = await daemon.client.call('listTeam', {});
    expect(members).toEqual([]);
    const { lease } = await daemon.client.call('getLease', { id: aliceLease });
    expect(lease.status).toBe('revoked');
    const after = await alice(['whoami']);
    expect(after.code).not.toBe(0);
    expect(after.stderr).toMatch(/removed from the team/);
  });

  it('says so in the dialog when the listener stopped after the screen opened', async () => {
    await daemon.client.call('disableListener', {});
    await page.getByRole('button', { name: 'Invite', exact: true }).click();
    await dialog().getByLabel('Name').fill('carol');
    await dialog().getByRole('button', { name: 'Create invite' }).click();
    const note = dialog().getByTestId('listener-off');
    await note.waitFor();
    expect(await note.getByRole('link', { name: 'Team access' }).getAttribute('href')).toBe('#/listener');
    expect(await dialog().textContent()).not.toContain('daemon is not answering');
    await page.keyboard.press('Escape');
    expect(await dialog().count()).toBe(0);
    // The screen read the listener again: Invite waits for it, the note says why.
    await page.getByTestId('listener-off').waitFor();
    expect(await page.getByRole('button', { name: 'Invite', exact: true }).isDisabled()).toBe(true);
    expect((await daemon.client.call('listTeam', {})).invites.map((i) => i.name)).toEqual(['bob']);
    expect(app.errors).toEqual([]);
  });
});
