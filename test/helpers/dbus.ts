import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** One `org.freedesktop.Notifications.Notify` call seen on the bus. */
export interface NotifyCall {
  appName: string;
  summary: string;
  body: string;
  /** When the bus saw it (dbus-monitor's timestamp), ms since the epoch. */
  at: number;
}

/** Any method call to the Notifications interface (Notify, GetServerInformation, …). */
export interface NotificationsMethodCall {
  member: string;
  at: number;
}

/** A private session bus for one test, observed with dbus-monitor. */
export interface TestBus {
  /** `{ DBUS_SESSION_BUS_ADDRESS }`: merge into a child's or notifier's environment. */
  env: Record<string, string>;
  address: string;
  /** Notify calls seen so far, oldest first. */
  notifications(): NotifyCall[];
  /** Every method call to org.freedesktop.Notifications seen so far (one notify-send makes 1–3). */
  methodCalls(): NotificationsMethodCall[];
  /** Resolves with the first Notify call (past or future) matching `pred`; rejects after `timeoutMs`. */
  waitFor(pred: (call: NotifyCall) => boolean, timeoutMs: number): Promise<NotifyCall>;
  /** Stops every process this bus started and removes its temp dir. */
  stop(): Promise<void>;
}

const NOTIFICATIONS = 'org.freedesktop.Notifications';
// dbus-python and dbusmock live in Debian's python; a pyenv shim on PATH may not have them.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
  await exited;
  clearTimeout(timer);
}

function busConfig(dir: string): string {
  // No <servicedir>: nothing is ever auto-activated (the machine's dunst must not answer).
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=${dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;
}

function firstLine(child: ChildProcess, what: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(
      () => reject(new Error(`${what} printed nothing within ${timeoutMs} ms: ${err}`)),
      timeoutMs,
    );
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl).trim());
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready: ${err}`));
    });
  });
}

function nameHasOwner(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      'dbus-send',
      [
        `--bus=${address}`,
        '--print-reply',
        '--dest=org.freedesktop.DBus',
        '/org/freedesktop/DBus',
        'org.freedesktop.DBus.NameHasOwner',
        `string:${NOTIFICATIONS}`,
      ],
      { timeout: 2_000 },
      (error, stdout) => resolve(!error && /boolean true/.test(stdout)),
    );
  });
}

async function waitForOwner(address: string, server: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let stderr = '';
  server.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`notification server exited (${server.exitCode}): ${stderr}`);
    if (await nameHasOwner(address)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nobody owned ${NOTIFICATIONS} within ${timeoutMs} ms: ${stderr}`);
}

const HEADER = /^(method call|method return|signal|error) time=(\d+(?:\.\d+)?) [^\n]*$/gm;
const NOTIFY_ARGS =
  /^ {3}string "([\s\S]*?)"\n {3}uint32 \d+\n {3}string "[\s\S]*?"\n {3}string "([\s\S]*?)"\n {3}string "([\s\S]*?)"\n {3}array \[\n[\s\S]*\n {3}int32 -?\d+\n$/;

/**
 * Incremental parser of `dbus-monitor` text output. dbus-monitor does not escape strings, so a
 * Notify call's summary and body are delimited by the fixed argument layout of Notify
 * (susssasa{sv}i): text containing `"` + newline + `   string "` would be misread (tests avoid it).
 */
export class MonitorParser {
  private buffer = '';
  readonly notifyCalls: NotifyCall[] = [];
  readonly methodCalls: NotificationsMethodCall[] = [];
  private readonly listeners = new Set<(call: NotifyCall) => void>();

  onNotify(listener: (call: NotifyCall) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  push(text: string): void {
    this.buffer += text;
    for (;;) {
      HEADER.lastIndex = 0;
      const first = HEADER.exec(this.buffer);
      if (!first) return;
      const second = HEADER.exec(this.buffer);
      const headerEnd = first.index + first[0].length + 1;
      if (headerEnd > this.buffer.length) return; // header line not complete yet
      let end: number;
      if (second) end = second.index;
      else if (!isNotify(first[0]))
        end = headerEnd; // its argument lines (if any) are not needed
      else if (/\n {3}int32 -?\d+\n$/.test(this.buffer.slice(headerEnd - 1))) end = this.buffer.length;
      else return; // a Notify call still arriving
      const args = this.buffer.slice(headerEnd, end);
      this.buffer = this.buffer.slice(end);
      this.take(first[1] as string, Number(first[2]) * 1000, first[0], args);
    }
  }

  private take(kind: string, at: number, header: string, args: string): void {
    if (kind !== 'method call' || !header.includes(`interface=${NOTIFICATIONS};`)) return;
    const member = /member=(\S+)/.exec(header)?.[1] ?? '';
    this.methodCalls.push({ member, at });
    if (member !== 'Notify') return;
    const m = NOTIFY_ARGS.exec(args);
    if (!m) return;
    const call: NotifyCall = { appName: m[1] as string, summary: m[2] as string, body: m[3] as string, at };
    this.notifyCalls.push(call);
    for (const listener of this.listeners) listener(call);
  }
}

function isNotify(header: string): boolean {
  return header.startsWith('method call') && header.includes('member=Notify');
}

type ServerKind = 'dbusmock' | 'hung' | 'none';

async function startBus(kind: ServerKind, capabilities?: string): Promise<TestBus> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bella-dbus-'));
  const config = path.join(dir, 'bus.conf');
  writeFileSync(config, busConfig(dir));
  const started: ChildProcess[] = [];
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const child of [...started].reverse()) await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    })());
  try {
    const daemon = track(
      spawn('dbus-daemon', [`--config-file=${config}`, '--print-address', '--nofork'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    started.push(daemon);
    const address = await firstLine(daemon, 'dbus-daemon', 10_000);
    const env = { DBUS_SESSION_BUS_ADDRESS: address };
    const childEnv = { ...process.env, ...env };

    const parser = new MonitorParser();
    const monitor = track(
      spawn('dbus-monitor', ['--address', address, `type='method_call',interface='${NOTIFICATIONS}'`], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: childEnv,
      }),
    );
    started.push(monitor);
    // dbus-monitor announces itself with NameAcquired/NameLost once it is a monitor.
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      let ready = false;
      const timer = setTimeout(() => reject(new Error('dbus-monitor did not start')), 10_000);
      monitor.stdout?.setEncoding('utf8');
      monitor.stdout?.on('data', (chunk: string) => {
        if (!ready) {
          seen += chunk;
          if (seen.includes('member=NameLost')) {
            ready = true;
            clearTimeout(timer);
            resolve();
          }
        }
        parser.push(chunk);
      });
      monitor.once('exit', () => reject(new Error('dbus-monitor exited')));
    });

    if (kind === 'dbusmock') {
      const server = track(
        spawn(
          PYTHON,
          [
            '-m',
            'dbusmock',
            '--template',
            'notification_daemon',
            ...(capabilities ? ['-p', JSON.stringify({ capabilities })] : []),
          ],
          {
            stdio: ['ignore', 'ignore', 'pipe'],
            env: childEnv,
          },
        ),
      );
      started.push(server);
      await waitForOwner(address, server, 20_000);
    } else if (kind === 'hung') {
      // Owns the name but never runs a main loop: calls are queued and never answered, like a
      // notification daemon that hangs (notify-send then blocks for its ~25 s D-Bus timeout).
      const script = [
        'import dbus, time',
        'bus = dbus.SessionBus()',
        `bus.request_name('${NOTIFICATIONS}')`,
        'time.sleep(3600)',
      ].join('\n');
      const server = track(spawn(PYTHON, ['-c', script], { stdio: ['ignore', 'ignore', 'pipe'], env: childEnv }));
      started.push(server);
      await waitForOwner(address, server, 20_000);
    }

    return {
      env,
      address,
      notifications: () => [...parser.notifyCalls],
      methodCalls: () => [...parser.methodCalls],
      waitFor(pred, timeoutMs) {
        const found = parser.notifyCalls.find(pred);
        if (found) return Promise.resolve(found);
        return new Promise<NotifyCall>((resolve, reject) => {
          const off = parser.onNotify((call) => {
            if (!pred(call)) return;
            clearTimeout(timer);
            off();
            resolve(call);
          });
          const timer = setTimeout(() => {
            off();
            const seen = parser.notifyCalls.map((c) => JSON.stringify(c.summary)).join(', ') || 'none';
            reject(new Error(`no matching Notify call within ${timeoutMs} ms (seen: ${seen})`));
          }, timeoutMs);
        });
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * A private session bus with python-dbusmock's notification daemon, observed with dbus-monitor.
 * `actions`: the server says it shows buttons (the `actions` capability, as GNOME's, KDE's and
 * dunst do); notify-send shows an `--action` only then. A click is the mock's `EmitSignal` of
 * `ActionInvoked` (see test/team/notify-open.dbus.test.ts).
 */
export function startNotificationBus(options: { actions?: boolean } = {}): Promise<TestBus> {
  return startBus('dbusmock', options.actions ? 'body body-markup actions icon-static persistence' : undefined);
}

/** A private session bus with no notification server at all (Notify fails with ServiceUnknown). */
export function startBareBus(): Promise<TestBus> {
  return startBus('none');
}

/** A private session bus whose notification server owns the name but never answers. */
export function startHungBus(): Promise<TestBus> {
  return startBus('hung');
}

/** notify-send processes running on the bus at `address` (read from /proc). */
export function notifySendProcesses(address: string): number {
  let count = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'notify-send') continue;
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`DBUS_SESSION_BUS_ADDRESS=${address}`)) {
        count++;
      }
    } catch {
      // process ended while we looked
    }
  }
  return count;
}
