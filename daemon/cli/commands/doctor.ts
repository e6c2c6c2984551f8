import fs from 'node:fs';
import path from 'node:path';
import { isBellaError } from '../../api/errors';
import type { ListenerStatus } from '../../api/routes';
import { ExitCode } from '../framework/errors';
import { formatWhen } from '../format';
import type { RemoteClient } from '../../client/remote';
import { hasToken, remotePlane, requireToken, connectTokenPlane } from '../token-plane';
import { VERSION } from '../version';
import type { Action, CliSession } from '../session';
import { renderTable } from '../table';
import { describeNotifications } from './daemon';
import { tokenOptions } from './shared-options';
import type { CommandSpec } from '../framework/spec';

/** One check of `bella doctor`: ok, a warning, or a failure, with what to do. */
export interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

const MIN_NODE = [20, 12] as const;
/** Below this much free space growth writes are refused; warn well before. */
const LOW_DISK = 256 * 1024 * 1024;
const FULL_DISK = 16 * 1024 * 1024;

function mode(file: string): number | undefined {
  try {
    return fs.statSync(file).mode & 0o777;
  } catch {
    return undefined;
  }
}

function octal(m: number): string {
  return `0${m.toString(8)}`;
}

function versions(): Check {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  const old = major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1]);
  return {
    name: 'versions',
    status: old ? 'fail' : 'ok',
    detail: `bella ${VERSION}, node ${process.versions.node}`,
    ...(old ? { fix: `install Node.js ${MIN_NODE.join('.')} or newer` } : {}),
  };
}

function privateModes(home: string, socket: string): Check[] {
  const checks: Check[] = [];
  const homeMode = mode(home);
  if (homeMode === undefined) {
    checks.push({ name: 'data dir', status: 'ok', detail: `${home} does not exist yet (created 0700 on first start)` });
    return checks;
  }
  checks.push(
    homeMode & 0o077
      ? {
          name: 'data dir',
          status: 'fail',
          detail: `${home} is ${octal(homeMode)}: other users can look inside`,
          fix: `chmod 700 ${home}`,
        }
      : { name: 'data dir', status: 'ok', detail: `${home} (${octal(homeMode)})` },
  );
  const open = fs
    .readdirSync(home)
    .map((name) => path.join(home, name))
    .filter((file) => fs.statSync(file).isFile() && ((mode(file) ?? 0) & 0o077) !== 0);
  if (open.length) {
    checks.push({
      name: 'data files',
      status: 'fail',
      detail: `readable by others: ${open.map((f) => path.basename(f)).join(', ')}`,
      fix: `chmod 600 ${open.join(' ')}`,
    });
  }
  const dirMode = mode(path.dirname(socket));
  const sockMode = mode(socket);
  if (sockMode === undefined) {
    checks.push({ name: 'socket', status: 'ok', detail: `${socket} not there (no daemon running)` });
  } else if ((sockMode & 0o077) !== 0 || (dirMode !== undefined && (dirMode & 0o077) !== 0)) {
    checks.push({
      name: 'socket',
      status: 'fail',
      detail: `${socket} is ${octal(sockMode)} in a ${dirMode === undefined ? '?' : octal(dirMode)} directory: other users could connect`,
      fix: `chmod 700 ${path.dirname(socket)} && chmod 600 ${socket}`,
    });
  } else {
    checks.push({
      name: 'socket',
      status: 'ok',
      detail: `${socket} (${octal(sockMode)}, directory ${octal(dirMode ?? 0)})`,
    });
  }
  return checks;
}

function disk(home: string): Check {
  let dir = home;
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  const stats = fs.statfsSync(dir);
  const free = stats.bavail * stats.bsize;
  const mb = Math.floor(free / 1024 / 1024);
  if (free < FULL_DISK)
    return {
      name: 'disk',
      status: 'fail',
      detail: `${mb} MiB free under ${dir}: changes are refused`,
      fix: 'free some disk space',
    };
  if (free < LOW_DISK)
    return { name: 'disk', status: 'warn', detail: `${mb} MiB free under ${dir}`, fix: 'free some disk space soon' };
  return { name: 'disk', status: 'ok', detail: `${mb} MiB free under ${dir}` };
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

function desktop(env: NodeJS.ProcessEnv): Check[] {
  if (process.platform !== 'linux' && !/bsd$/.test(process.platform)) {
    return [{ name: 'notify-send', status: 'ok', detail: `not needed on ${process.platform}` }];
  }
  const notifySend = onPath('notify-send', env);
  const bus = env.DBUS_SESSION_BUS_ADDRESS;
  const socketPath = /unix:path=([^,;]+)/.exec(bus ?? '')?.[1];
  const busOk = bus !== undefined && (socketPath === undefined || fs.existsSync(socketPath));
  return [
    notifySend
      ? { name: 'notify-send', status: 'ok', detail: notifySend }
      : {
          name: 'notify-send',
          status: 'warn',
          detail: 'not on PATH: no desktop warnings before leases expire',
          fix: 'install libnotify-bin (Debian/Ubuntu) or libnotify (Fedora)',
        },
    busOk
      ? { name: 'D-Bus', status: 'ok', detail: `session bus ${bus}` }
      : {
          name: 'D-Bus',
          status: 'warn',
          detail: bus
            ? `DBUS_SESSION_BUS_ADDRESS points at ${socketPath}, which does not exist`
            : 'no session bus (DBUS_SESSION_BUS_ADDRESS unset)',
          fix: 'run bella from a desktop session, or start the daemon where one is available',
        },
  ];
}

async function daemonChecks(cli: CliSession): Promise<Check[]> {
  try {
    const client = await cli.existing();
    const s = await client.call('status', {});
    const checks: Check[] = [
      s.version === VERSION
        ? { name: 'daemon', status: 'ok', detail: `bella ${s.version} running (pid ${s.pid})` }
        : {
            name: 'daemon',
            status: 'warn',
            detail: `the daemon is bella ${s.version}, this CLI ${VERSION}`,
            fix: 'restart it: bella daemon stop && bella daemon start',
          },
      {
        name: 'notifications',
        status: s.notifications.available === false ? 'warn' : 'ok',
        detail: describeNotifications(s.notifications),
        ...(s.notifications.available === false
          ? { fix: 'see notify-send and D-Bus above; then bella notifications test' }
          : {}),
      },
      ...s.problems.map((problem): Check => ({ name: 'daemon reports', status: 'fail', detail: cli.safe(problem) })),
      listenerCheck((await client.call('getListener', {})).listener),
    ];
    return checks;
  } catch (err) {
    if (isBellaError(err, 'unavailable')) {
      return [
        {
          name: 'daemon',
          status: 'warn',
          detail: 'not running',
          fix: 'it starts on first use, or: bella daemon start',
        },
      ];
    }
    return [{ name: 'daemon', status: 'fail', detail: (err as Error).message }];
  }
}

/**
 * A holder's machine: each server named by BELLA_SERVER (reachable within the deadline, the
 * certificate the pinned one) and the token (its lease active, until when). Nothing is sent to
 * the server but the token's lookup.
 */
async function holderChecks(cli: CliSession, opts: Record<string, unknown>): Promise<Check[]> {
  const remote = await remotePlane(cli, opts);
  if (!remote) {
    return [
      {
        name: 'server',
        status: 'fail',
        detail: 'a token is given but BELLA_SERVER is not set, and this machine has no bella data directory of its own',
        fix: "set BELLA_SERVER and BELLA_SERVER_FINGERPRINT to what the lease's owner gave you",
      },
    ];
  }
  let checks: Check[];
  try {
    checks = await probeEach(remote);
  } finally {
    remote.close();
  }
  if (checks.some((c) => c.status === 'fail')) return checks;
  if (!hasToken(cli, opts)) {
    checks.push({
      name: 'token',
      status: 'warn',
      detail: 'no token to check',
      fix: 'set BELLA_TOKEN (or pass --token-file FILE)',
    });
    return checks;
  }
  const plane = await connectTokenPlane(cli, opts);
  try {
    const { lease } = await plane.call('lookupToken', {}, { token: await requireToken(cli, opts) });
    const what = `lease ${lease.id} for ${lease.project}/${lease.environment}, scope ${lease.scope.join(', ')}`;
    checks.push(
      lease.status === 'active'
        ? { name: 'token', status: 'ok', detail: `${what}, active, expires ${formatWhen(lease.expiresAt)}` }
        : {
            name: 'token',
            status: 'fail',
            detail: `${what} is ${lease.status} (expiry ${formatWhen(lease.expiresAt)})`,
            fix: "ask the lease's owner for a new token",
          },
    );
  } catch (err) {
    checks.push({ name: 'token', status: 'fail', detail: (err as Error).message });
  } finally {
    plane.close();
  }
  return checks;
}

/**
 * Each listed server, connected to (TCP, TLS, the pin or the CAs) without sending anything: which
 * answer, and whether each presented the certificate it should. One that cannot be reached is a
 * warning while another answers (a standby that is down), a failure when none does.
 */
async function probeEach(remote: RemoteClient): Promise<Check[]> {
  const checks: Check[] = [];
  const several = remote.origins.length > 1;
  const unreached: string[] = [];
  for (const origin of remote.origins) {
    const where = several ? `${origin}: ` : '';
    try {
      const presented = await remote.probe(origin);
      checks.push(
        { name: 'server', status: 'ok', detail: `${origin} answered over TLS` },
        remote.fingerprint
          ? { name: 'fingerprint', status: 'ok', detail: `${where}${presented}, as pinned` }
          : {
              name: 'fingerprint',
              status: 'ok',
              detail: `${where}not pinned: ${presented} verified by the system's CAs`,
            },
      );
    } catch (err) {
      const message = (err as Error).message;
      // A wrong certificate means the server was reached: the fingerprint is what failed.
      if (isBellaError(err, 'permission_denied')) {
        checks.push(
          { name: 'server', status: 'ok', detail: `${origin} answered over TLS` },
          { name: 'fingerprint', status: 'fail', detail: message },
        );
      } else {
        unreached.push(message);
      }
    }
  }
  const answered = checks.length > 0;
  return [
    ...checks,
    ...unreached.map((detail): Check => ({ name: 'server', status: answered ? 'warn' : 'fail', detail })),
  ];
}

/**
 * A holder's machine: a server is named (BELLA_SERVER, --server), or a token is given and this is
 * not the owner's machine (as the connector decides).
 */
function onHolderMachine(cli: CliSession, opts: Record<string, unknown>): boolean {
  if (typeof opts.server === 'string' || cli.io.env.BELLA_SERVER?.trim()) return true;
  return hasToken(cli, opts) && !cli.connector.onOwnersMachine();
}

/** Every check, in order. */
export async function runChecks(cli: CliSession, opts: Record<string, unknown> = {}): Promise<Check[]> {
  if (onHolderMachine(cli, opts)) return [versions(), ...(await holderChecks(cli, opts))];
  const { home, socket } = cli.target();
  return [versions(), ...(await daemonChecks(cli)), ...privateModes(home, socket), disk(home), ...desktop(cli.io.env)];
}

/** The TLS listener: off, serving (and until when its certificate holds), or enabled but not listening. */
function listenerCheck(l: ListenerStatus): Check {
  if (!l.enabled) {
    return {
      name: 'listener',
      status: 'ok',
      detail: 'off: the token plane is on the local socket only (opt-in: bella listener enable)',
    };
  }
  if (l.problem)
    return { name: 'listener', status: 'fail', detail: l.problem, fix: 'bella listener status; bella listener enable' };
  const days = l.notAfter ? Math.floor((Date.parse(l.notAfter) - Date.now()) / 86_400_000) : null;
  if (days !== null && days < 30) {
    return {
      name: 'listener',
      status: 'warn',
      detail: `serving on ${l.listening.join(', ')}; its certificate expires in ${days} days`,
      fix:
        l.certificate === 'own'
          ? 'renew it with your CA, then bella listener enable --cert FILE --key FILE'
          : 'bella listener rotate-cert',
    };
  }
  return { name: 'listener', status: 'ok', detail: `serving on ${l.listening.join(', ')} (${l.fingerprint})` };
}

/** `bella doctor`: exit 1 when a check failed. */
export const doctor: Action = async (cli, { opts }) => {
  const checks = await runChecks(cli, opts);
  const ok = checks.every((c) => c.status !== 'fail');
  cli.print({ ok, checks }, () =>
    renderTable(
      [
        { header: 'CHECK', keep: true },
        { header: 'STATUS', keep: true, colour: (c) => (c === 'ok' ? '32' : c === 'warn' ? '33' : '31') },
        { header: 'DETAIL' },
      ],
      checks.map((c) => [c.name, c.status, c.fix ? `${c.detail}: ${c.fix}` : c.detail]),
      { width: cli.width, colour: cli.colour },
    ),
  );
  if (!ok) throw new ExitCode(1);
};

/** The `bella doctor` command, as the parser, help, completion and docs/cli.md read it. */
export const doctorCommand: CommandSpec = {
  name: 'doctor',
  summary: 'check the daemon, file modes, notifications, disk space and versions; say what to fix',
  details:
    "On a holder's machine (BELLA_SERVER or --server set, or a token and no data directory of its own) it checks " +
    'the server instead: reachable within the deadline, the pinned fingerprint, and the token (active, expiry).',
  options: tokenOptions,
  action: doctor,
};
