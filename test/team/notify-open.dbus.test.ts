import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest } from '../../daemon/api';
import { createDesktopNotifier } from '../../daemon/notify';
import { BellaSandbox, cliPath, collect, waitFor, type CliResult } from '../helpers/cli';
import { startNotificationBus, type TestBus } from '../helpers/dbus';
import { freePort } from '../helpers/daemon';

// The desktop notification of an access request opens the app on that request (issue 17 item 7):
// a real daemon under a private D-Bus session with python-dbusmock's notification server, real
// notify-send with an action; the mock emits ActionInvoked as a click would, and the app's launch
// command (BELLA_APP_COMMAND: here a script that records its arguments, in place of Electron)
// receives `--open=requests/ID`. Electron is never launched.

const RECORD = "require('node:fs').appendFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)) + '\\n')";

/** Emits `ActionInvoked(id, action)` from the mock notification server, as a click on the button would. */
function click(bus: TestBus, id: number, action: string): Promise<void> {
  const script = [
    'import dbus, sys',
    'bus = dbus.bus.BusConnection(sys.argv[1])',
    "obj = bus.get_object('org.freedesktop.Notifications', '/org/freedesktop/Notifications')",
    "dbus.Interface(obj, 'org.freedesktop.DBus.Mock').EmitSignal('org.freedesktop.Notifications', 'ActionInvoked', 'us', [dbus.UInt32(int(sys.argv[2])), sys.argv[3]])",
  ].join('\n');
  return new Promise((resolve, reject) =>
    execFile('/usr/bin/python3', ['-c', script, bus.address, String(id), action], { timeout: 10_000 }, (err) =>
      err ? reject(err) : resolve(),
    ),
  );
}

/** The command lines of the notify-send processes on `address` now (from /proc). */
function notifySends(address: string): string[][] {
  const found: string[][] = [];
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'notify-send') continue;
      if (!fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`DBUS_SESSION_BUS_ADDRESS=${address}`))
        continue;
      found.push(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean));
    } catch {
      // ended while we looked
    }
  }
  return found;
}

/** The mock's id of the first Notify call matching `summary` (it numbers them 1, 2, … in order). */
async function notificationId(bus: TestBus, summary: string): Promise<number> {
  const call = await bus.waitFor((c) => c.summary.includes(summary), 15_000);
  return bus.notifications().indexOf(call) + 1;
}

describe('a request notification opens the app on that request', { timeout: 60_000 }, () => {
  let bus: TestBus;
  let bella: BellaSandbox;
  let aliceHome = '';
  let opened = '';
  let env: Record<string, string>;
  const owner = (args: string[]) => bella.run(args, { env });
  const alice = (args: string[]): Promise<CliResult> =>
    collect(
      spawn(process.execPath, [cliPath, ...args], {
        env: { PATH: process.env.PATH, HOME: aliceHome, BELLA_CONFIG_DIR: path.join(aliceHome, 'config') },
        cwd: aliceHome,
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
  const launches = (): string[][] =>
    fs.existsSync(opened)
      ? fs
          .readFileSync(opened, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as string[])
      : [];

  beforeAll(async () => {
    bus = await startNotificationBus({ actions: true });
    bella = new BellaSandbox();
    aliceHome = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-alice-'));
    opened = path.join(bella.workDir, 'opened.jsonl');
    env = { ...bus.env, BELLA_APP_COMMAND: JSON.stringify([process.execPath, '-e', RECORD, opened]) };
    const ok = async (args: string[]) => {
      const res = await owner(args);
      expect(res.code, res.stderr).toBe(0);
      return res.stdout;
    };
    await ok(['projects', 'create', '--name', 'My API', '--slug', 'my-api']);
    await ok(['environments', 'create', '--project', 'my-api', '--name', 'Prod', '--slug', 'prod']);
    await ok(['secrets', 'set', 'API_KEY', 'k-123', '-p', 'my-api', '-e', 'prod']);
    await ok([
      'environments',
      'set-lease-policy',
      '--project',
      'my-api',
      '--environment',
      'prod',
      '--ttl',
      '2h',
      '--warn-before',
      '10m',
      '--break-glass-ttl',
      '30m',
    ]);
    await ok(['listener', 'enable', '--address', `127.0.0.1:${await freePort()}`]);
    const code = (await ok(['team', 'invite', 'alice', '--role', 'member', '--grant', 'my-api/prod:request'])).trim();
    const joined = await alice(['team', 'join', code]);
    expect(joined.code, joined.stderr).toBe(0);
  }, 60_000);

  afterAll(async () => {
    await bella?.stop();
    await bus?.stop();
    if (aliceHome) fs.rmSync(aliceHome, { recursive: true, force: true });
  });

  it('AccessRequested: an Open button; clicked, the app is launched with --open=requests/ID', async () => {
    const asked = await alice([
      'request',
      '-p',
      'my-api',
      '-e',
      'prod',
      '--scope',
      'API_KEY',
      '--reason',
      'INC-9',
      '--no-wait',
      '--json',
    ]);
    expect(asked.code, asked.stderr).toBe(0);
    const { request } = JSON.parse(asked.stdout) as { request: AccessRequest };
    const id = await notificationId(bus, 'alice asks for access to my-api/prod');

    // Shown with its button, notify-send waits for the click (its slot released: others still go out).
    const waiting = await waitFor(
      () => notifySends(bus.address).find((argv) => argv.includes('--action=open=Open in bella')),
      'notify-send waiting with the Open action',
    );
    expect(waiting).toContain('--print-id');
    expect(launches()).toEqual([]);

    await click(bus, id, 'open');
    await waitFor(() => launches().length > 0, 'the app to be launched');
    expect(launches()).toEqual([[`--open=requests/${request.id}`]]);
    // Clicked, the notification closes and notify-send ends.
    await waitFor(
      () => !notifySends(bus.address).some((argv) => argv.includes('--action=open=Open in bella')),
      'notify-send to end after the click',
    );
  });

  it('BreakGlass: the same button opens the grant to review', async () => {
    const glass = await alice([
      'request',
      '-p',
      'my-api',
      '-e',
      'prod',
      '--scope',
      'API_KEY',
      '--reason',
      'prod down',
      '--break-glass',
      '--json',
    ]);
    expect(glass.code, glass.stderr).toBe(0);
    const { lease } = JSON.parse(glass.stdout) as { lease: { id: string } };
    const { requests } = JSON.parse((await owner(['requests', 'list', '--unreviewed', '--json'])).stdout) as {
      requests: AccessRequest[];
    };
    const request = requests.find((r) => r.leaseId === lease.id)!;
    const id = await notificationId(bus, 'Break-glass: alice took access to my-api/prod');
    await waitFor(() => notifySends(bus.address).length > 0, 'notify-send waiting');
    // Another name than the action's opens nothing.
    await click(bus, id, 'default');
    await click(bus, id, 'open');
    await waitFor(() => launches().length > 1, 'the app to be launched again');
    expect(launches()[1]).toEqual([`--open=requests/${request.id}`]);
  });
});

describe('the notifier with an action, on a real D-Bus', { timeout: 30_000 }, () => {
  it('settles as shown before the click, and close() ends the waiting notify-send', async () => {
    const bus = await startNotificationBus({ actions: true });
    const notifier = createDesktopNotifier({ log: () => undefined, env: { ...process.env, ...bus.env } });
    try {
      let clicks = 0;
      const result = await notifier.notify({
        title: 'bella',
        message: 'a request',
        action: { label: 'Open in bella', invoked: () => clicks++ },
      });
      expect(result).toEqual({ sent: true, problem: null });
      // The slot is free: a plain notification goes out while the first still waits for its click.
      expect(await notifier.notify({ title: 'bella', message: 'another' })).toEqual({ sent: true, problem: null });
      expect(notifier.stats()).toMatchObject({ sent: 2, inFlight: 0 });
      expect(notifySends(bus.address)).toHaveLength(1);
      await notifier.close();
      await waitFor(() => notifySends(bus.address).length === 0, 'the waiting notify-send to be ended');
      expect(clicks).toBe(0);
    } finally {
      await notifier.close();
      await bus.stop();
    }
  });
});
