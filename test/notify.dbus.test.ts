import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDesktopNotifier, formatExpiryWarning } from '../daemon/notify';
import {
  MonitorParser,
  notifySendProcesses,
  type TestBus,
  startBareBus,
  startHungBus,
  startNotificationBus,
} from './helpers/dbus';

const PWNED = '/tmp/bella-pwned';
const INJECTION = '$(touch /tmp/bella-pwned) `id`';

/** notify-send processes talking to `address` right now, from /proc (an operation count, not a timing). */

/** Samples notify-send processes on a bus until `work` settles; returns the most seen at once. */
async function maxConcurrent<T>(address: string, work: Promise<T>): Promise<{ result: T; max: number }> {
  let max = 0;
  let done = false;
  const sampler = (async () => {
    while (!done) {
      max = Math.max(max, notifySendProcesses(address));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const result = await work.finally(() => (done = true));
  await sampler;
  return { result, max };
}

describe('MonitorParser', () => {
  it('reads Notify calls split across chunks, with quotes and newlines in the text', () => {
    const text = [
      'signal time=1.5 sender=org.freedesktop.DBus -> destination=:1.2 serial=2 path=/org/freedesktop/DBus; interface=org.freedesktop.DBus; member=NameAcquired',
      '   string ":1.2"',
      'method call time=1795842450.755883 sender=:1.4 -> destination=:1.3 serial=9 path=/org/freedesktop/Notifications; interface=org.freedesktop.Notifications; member=GetServerInformation',
      'method call time=1795842450.755900 sender=:1.4 -> destination=:1.3 serial=10 path=/org/freedesktop/Notifications; interface=org.freedesktop.Notifications; member=Notify',
      '   string "bella"',
      '   uint32 0',
      '   string ""',
      '   string "Sum "quoted""',
      '   string "line one $(x) `id`',
      'line two"',
      '   array [',
      '   ]',
      '   array [',
      '      dict entry(',
      '         string "urgency"',
      '         variant             byte 1',
      '      )',
      '   ]',
      '   int32 -1',
      '',
    ].join('\n');
    const parser = new MonitorParser();
    for (let i = 0; i < text.length; i += 37) parser.push(text.slice(i, i + 37));
    expect(parser.methodCalls.map((c) => c.member)).toEqual(['GetServerInformation', 'Notify']);
    expect(parser.notifyCalls).toEqual([
      { appName: 'bella', summary: 'Sum "quoted"', body: 'line one $(x) `id`\nline two', at: 1795842450755.9 },
    ]);
  });
});

describe('desktop notifications on a real D-Bus', () => {
  let bus: TestBus;

  beforeAll(async () => {
    rmSync(PWNED, { force: true });
    bus = await startNotificationBus();
  });

  afterAll(async () => {
    await bus?.stop();
  });

  it('delivers a notification with the right summary and body', async () => {
    const logs: string[] = [];
    const notifier = createDesktopNotifier({ log: (m) => logs.push(m), env: { ...process.env, ...bus.env } });
    const title = 'Lease for my-api/production expires in 2 h';
    const message = 'Expires at 14:00\nKeys: DATABASE_URL, API_KEY\nReason: deploy hotfix';
    expect(await notifier.notify({ title, message })).toEqual({ sent: true, problem: null });
    const call = await bus.waitFor((c) => c.summary === title, 5_000);
    expect(call).toMatchObject({ appName: 'bella', summary: title, body: message });
    expect(notifier.health()).toEqual({ available: true, problem: null });
    expect(logs).toEqual([]);
  });

  it('shows a hostile reason as text and runs nothing', async () => {
    const notifier = createDesktopNotifier({ log: () => {}, env: { ...process.env, ...bus.env } });
    const reason = `${INJECTION} ; rm -rf ~ "quoted" C:\\new\\table`;
    const now = Date.now();
    const n = formatExpiryWarning(
      {
        project: 'my-api',
        environment: 'production',
        warnings: [
          {
            project: 'my-api',
            environment: 'production',
            leaseId: 'lse_x',
            scope: ['K'],
            reason,
            expiresAt: now + 4_000,
          },
        ],
      },
      { now },
    );
    expect((await notifier.notify(n)).sent).toBe(true);
    const call = await bus.waitFor((c) => c.body.includes('lse_x'), 5_000);
    expect(call.summary).toBe('Lease for my-api/production expires in 4 s');
    expect(call.body).toBe(n.message);
    expect(call.body).toContain(`Reason: ${reason}\n`);
    expect(existsSync(PWNED)).toBe(false);
  });

  it('without notify-send on PATH: health() says what to install and the log has one line', async () => {
    const emptyBin = mkdtempSync(path.join(tmpdir(), 'bella-nobin-'));
    try {
      const logs: string[] = [];
      const before = bus.methodCalls().length;
      const notifier = createDesktopNotifier({
        log: (m) => logs.push(m),
        env: { ...process.env, ...bus.env, PATH: emptyBin },
      });
      const results = await Promise.all([
        notifier.notify({ title: 'a', message: 'm' }),
        notifier.notify({ title: 'b', message: 'm' }),
      ]);
      expect(results.map((r) => r.sent)).toEqual([false, false]);
      const health = notifier.health();
      expect(health.available).toBe(false);
      expect(health.problem).toMatch(/notify-send was not found.*libnotify-bin/);
      expect(logs).toHaveLength(1);
      expect(logs[0]).toContain('libnotify-bin');
      expect(notifier.stats().spawned).toBe(0);
      expect(bus.methodCalls().length).toBe(before);
    } finally {
      rmSync(emptyBin, { recursive: true, force: true });
    }
  });
});

describe('desktop notifications without a working notification server', () => {
  it('bare bus: notify() resolves with the problem, one notify-send at a time, logged once', async () => {
    const bus = await startBareBus();
    try {
      const logs: string[] = [];
      const notifier = createDesktopNotifier({ log: (m) => logs.push(m), env: { ...process.env, ...bus.env } });
      const { result, max } = await maxConcurrent(
        bus.address,
        Promise.all([notifier.notify({ title: 'one', message: 'm' }), notifier.notify({ title: 'two', message: 'm' })]),
      );
      for (const r of result) {
        expect(r.sent).toBe(false);
        expect(r.problem).toMatch(/^no notification server answered on the D-Bus session bus/);
      }
      expect(max).toBeLessThanOrEqual(1);
      expect(notifier.stats()).toMatchObject({ spawned: 2, maxInFlight: 1, inFlight: 0, timedOut: 0 });
      expect(logs).toHaveLength(1);
      expect(logs[0]).toContain('no notification server answered');
      expect(notifier.health()).toEqual({ available: false, problem: result[0]!.problem });
      expect(bus.notifications()).toEqual([]);
    } finally {
      await bus.stop();
    }
  });

  it('hung server: notify-send is killed at the timeout, the second waits its turn, logged once', async () => {
    const bus = await startHungBus();
    try {
      const logs: string[] = [];
      const timeoutMs = 1_500;
      const notifier = createDesktopNotifier({
        log: (m) => logs.push(m),
        env: { ...process.env, ...bus.env },
        timeoutMs,
      });
      const first = notifier.notify({ title: 'one', message: 'm' });
      const second = notifier.notify({ title: 'two', message: 'm' });
      const { result, max } = await maxConcurrent(bus.address, Promise.all([first, second]));
      for (const r of result) {
        expect(r.sent).toBe(false);
        expect(r.problem).toMatch(/did not finish within 1500 ms/);
      }
      // Both ran (each reached the hung server), never two at once, and none is left behind.
      expect(max).toBe(1);
      expect(notifier.stats()).toMatchObject({ spawned: 2, timedOut: 2, maxInFlight: 1 });
      expect(bus.methodCalls().length).toBeGreaterThanOrEqual(2);
      await new Promise((r) => setTimeout(r, 100));
      expect(notifySendProcesses(bus.address)).toBe(0);
      expect(logs.filter((l) => l.includes('did not finish'))).toHaveLength(1);
      expect(logs).toHaveLength(1);
    } finally {
      await bus.stop();
    }
  });
});
