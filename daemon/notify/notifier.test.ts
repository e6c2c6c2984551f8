import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DesktopNotifier, createDesktopNotifier } from './notifier';
import { MISSING_NOTIFY_SEND, notifySendArgs } from './notify-send';

// A stand-in notify-send for unit tests of the queue, timeout and logging logic. It records
// its argv (NUL-separated) and detects overlapping runs with a lock directory.
const FAKE = `#!/bin/sh
d="$FAKE_NOTIFY_DIR"
/bin/mkdir "$d/lock" 2>/dev/null || /bin/touch "$d/overlap"
printf '%s\\0' "$@" > "$d/call-$$"
case "$FAKE_NOTIFY_MODE" in
  hang) /bin/rmdir "$d/lock"; exec /bin/sleep 30 ;;
  slow) /bin/sleep 0.2 ;;
  fail) echo "GDBus.Error:org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.Notifications was not provided by any .service files" >&2; /bin/rmdir "$d/lock"; exit 1 ;;
esac
/bin/rmdir "$d/lock"
exit 0
`;

let dir: string;
let binDir: string;
let logs: string[];
let notifier: DesktopNotifier | undefined;

function make(mode: string, extra: { timeoutMs?: number; maxQueue?: number; path?: string } = {}) {
  const env: NodeJS.ProcessEnv = { PATH: extra.path ?? binDir, FAKE_NOTIFY_DIR: dir, FAKE_NOTIFY_MODE: mode };
  notifier = createDesktopNotifier({
    log: (m) => logs.push(m),
    env,
    platform: 'linux',
    timeoutMs: extra.timeoutMs,
    maxQueue: extra.maxQueue,
  });
  return { notifier, env };
}

function calls(): string[][] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('call-'))
    .map((f) => readFileSync(path.join(dir, f), 'utf8').split('\0').slice(0, -1));
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bella-notify-'));
  binDir = path.join(dir, 'bin');
  mkdirSync(binDir);
  writeFileSync(path.join(binDir, 'notify-send'), FAKE);
  chmodSync(path.join(binDir, 'notify-send'), 0o755);
  logs = [];
});

afterEach(async () => {
  await notifier?.close();
  notifier = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('notifySendArgs', () => {
  it('ends options before user text and keeps backslashes literal', () => {
    expect(notifySendArgs('bella', '-u critical', 'a\\nb')).toEqual([
      '--app-name=bella',
      '--',
      '-u critical',
      'a\\\\nb',
    ]);
  });
});

describe('createDesktopNotifier', () => {
  it('claims nothing before a notification was attempted: health is unknown (null), then known', async () => {
    const { notifier } = make('ok');
    expect(notifier.health()).toEqual({ available: null, problem: null });
    await notifier.notify({ title: 't', message: 'm' });
    expect(notifier.health()).toEqual({ available: true, problem: null });
  });

  it('runs notify-send with the title and body as separate arguments', async () => {
    const { notifier } = make('ok');
    const reason = '$(touch /tmp/bella-pwned-unit) `id`; rm -rf "$HOME"';
    const result = await notifier.notify({ title: 'Lease for p/e expires in 2 h', message: `Reason: ${reason}` });
    expect(result).toEqual({ sent: true, problem: null });
    expect(calls()).toEqual([['--app-name=bella', '--', 'Lease for p/e expires in 2 h', `Reason: ${reason}`]]);
    expect(existsSync('/tmp/bella-pwned-unit')).toBe(false);
    expect(notifier.health()).toEqual({ available: true, problem: null });
    expect(logs).toEqual([]);
  });

  it('reports a missing notify-send once, in the log and by health()', async () => {
    const empty = path.join(dir, 'empty');
    mkdirSync(empty);
    const { notifier } = make('ok', { path: empty });
    expect(notifier.health()).toEqual({ available: false, problem: MISSING_NOTIFY_SEND });
    const results = await Promise.all([1, 2, 3].map((i) => notifier.notify({ title: `t${i}`, message: 'm' })));
    expect(results.every((r) => !r.sent && r.problem === MISSING_NOTIFY_SEND)).toBe(true);
    expect(notifier.health().problem).toContain('libnotify-bin');
    expect(logs).toEqual([`desktop notifications: ${MISSING_NOTIFY_SEND}`]);
    expect(notifier.stats().spawned).toBe(0);
  });

  it('finds notify-send once it is installed, without a restart', async () => {
    const later = path.join(dir, 'later');
    mkdirSync(later);
    const { notifier } = make('ok', { path: later });
    expect((await notifier.notify({ title: 't', message: 'm' })).sent).toBe(false);
    writeFileSync(path.join(later, 'notify-send'), FAKE);
    chmodSync(path.join(later, 'notify-send'), 0o755);
    expect(await notifier.notify({ title: 't', message: 'm' })).toEqual({ sent: true, problem: null });
    expect(logs).toHaveLength(2);
    expect(logs[1]).toBe(`desktop notifications: found notify-send at ${path.join(later, 'notify-send')}`);
    expect(notifier.health()).toEqual({ available: true, problem: null });
  });

  it('kills a hung notify-send after the timeout and never runs two at once', async () => {
    const { notifier } = make('hang', { timeoutMs: 300 });
    const results = await Promise.all([
      notifier.notify({ title: 'one', message: 'm' }),
      notifier.notify({ title: 'two', message: 'm' }),
    ]);
    for (const r of results) {
      expect(r.sent).toBe(false);
      expect(r.problem).toMatch(/did not finish within 300 ms/);
    }
    const s = notifier.stats();
    expect(s.spawned).toBe(2);
    expect(s.maxInFlight).toBe(1);
    expect(s.timedOut).toBe(2);
    expect(existsSync(path.join(dir, 'overlap'))).toBe(false);
    expect(logs.filter((l) => l.includes('did not finish'))).toHaveLength(1);
    expect(notifier.health().available).toBe(false);
  });

  it('bounds the queue behind a slow notifier, dropping the oldest and saying so', async () => {
    const { notifier } = make('slow', { maxQueue: 2 });
    const results = await Promise.all(
      ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'].map((t) => notifier.notify({ title: t, message: 'm' })),
    );
    expect(results.map((r) => r.sent)).toEqual([true, false, false, false, true, true]);
    expect(results[1]!.problem).toMatch(/^dropped/);
    const s = notifier.stats();
    expect(s).toMatchObject({ requested: 6, spawned: 3, sent: 3, dropped: 3, maxInFlight: 1, inFlight: 0, queued: 0 });
    expect(
      calls()
        .map((c) => c[2])
        .sort(),
    ).toEqual(['n1', 'n5', 'n6']);
    expect(logs.filter((l) => l.includes('dropped'))).toHaveLength(3);
    expect(logs[0]).toContain('dropped "n2"');
    expect(existsSync(path.join(dir, 'overlap'))).toBe(false);
  });

  it('merges an identical notification that is already waiting', async () => {
    const { notifier } = make('slow');
    const [a, b, c] = await Promise.all([
      notifier.notify({ title: 'a', message: 'm' }),
      notifier.notify({ title: 'b', message: 'm' }),
      notifier.notify({ title: 'b', message: 'm' }),
    ]);
    expect([a.sent, b.sent, c.sent]).toEqual([true, true, true]);
    expect(notifier.stats()).toMatchObject({ spawned: 2, coalesced: 1 });
    expect(logs.some((l) => l.includes('merged a repeat of "b"'))).toBe(true);
  });

  it('reports a missing notification server once and recovers when one answers', async () => {
    const { notifier, env } = make('fail');
    const first = await notifier.notify({ title: 'a', message: 'm' });
    const second = await notifier.notify({ title: 'b', message: 'm' });
    expect(first.sent).toBe(false);
    expect(first.problem).toMatch(/^no notification server answered on the D-Bus session bus/);
    expect(second.problem).toBe(first.problem);
    expect(logs).toEqual([`desktop notifications: ${first.problem}`]);
    expect(notifier.health()).toEqual({ available: false, problem: first.problem });
    env.FAKE_NOTIFY_MODE = 'ok';
    expect((await notifier.notify({ title: 'c', message: 'm' })).sent).toBe(true);
    expect(notifier.health()).toEqual({ available: true, problem: null });
    expect(logs).toHaveLength(2);
  });

  it('never throws, whatever it is given', async () => {
    const { notifier } = make('ok');
    const bad = { title: 'nul\0byte', message: undefined } as unknown as { title: string; message: string };
    const r = await notifier.notify(bad);
    expect(r.sent).toBe(true);
    expect(calls()[0]).toEqual(['--app-name=bella', '--', 'nulbyte', '']);
    const huge = await notifier.notify({ title: 'x'.repeat(10_000), message: 'y'.repeat(1_000_000) });
    expect(huge.sent).toBe(true);
    const r2 = await notifier.notify(null as unknown as { title: string; message: string });
    expect(r2.sent).toBe(true);
  });

  it('on a platform without a desktop notifier, says so once and sends nothing', async () => {
    notifier = createDesktopNotifier({ log: (m) => logs.push(m), platform: 'aix' });
    const results = [
      await notifier.notify({ title: 'a', message: 'm' }),
      await notifier.notify({ title: 'b', message: 'm' }),
    ];
    for (const r of results)
      expect(r).toEqual({ sent: false, problem: 'desktop notifications are not supported on aix' });
    expect(logs).toEqual(['desktop notifications: desktop notifications are not supported on aix']);
    expect(notifier.health().available).toBe(false);
  });

  it('close() kills the running notifier and resolves the waiting ones', async () => {
    const { notifier } = make('hang', { timeoutMs: 20_000 });
    const running = notifier.notify({ title: 'a', message: 'm' });
    const waiting = notifier.notify({ title: 'b', message: 'm' });
    await new Promise((r) => setTimeout(r, 100));
    await notifier.close();
    expect(await waiting).toEqual({ sent: false, problem: 'notifier closed' });
    expect(await running).toEqual({ sent: false, problem: 'notifier closed' });
    expect(await notifier.notify({ title: 'c', message: 'm' })).toEqual({ sent: false, problem: 'notifier closed' });
    expect(notifier.stats().inFlight).toBe(0);
  });
});
