import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The data directory: the flag, then BELLA_HOME, then the per-OS default. */
export function resolveHome(flag?: string): string {
  if (flag) return path.resolve(flag);
  if (process.env.BELLA_HOME) return path.resolve(process.env.BELLA_HOME);
  const home = os.homedir();
  switch (process.platform) {
    case 'darwin':
      return path.join(home, 'Library', 'Application Support', 'bella');
    case 'win32':
      return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'bella');
    default:
      return path.join(process.env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'bella');
  }
}

/** The daemon socket: the flag, then BELLA_SOCKET, then `<home>/run/bella.sock` (a named pipe on Windows). */
export function resolveSocket(home: string, flag?: string): string {
  if (flag) return path.resolve(flag);
  if (process.env.BELLA_SOCKET) return path.resolve(process.env.BELLA_SOCKET);
  if (process.platform === 'win32') {
    return `\\\\.\\pipe\\bella-${Buffer.from(home).toString('hex').slice(-32)}`;
  }
  return path.join(home, 'run', 'bella.sock');
}

/** The master key file of a data directory: it exists once a daemon has initialised that directory. */
export function masterKeyPath(home: string): string {
  return path.join(home, 'master.key');
}

/** The daemon's lock file inside a data directory: it holds the pid of the daemon serving it. */
export function daemonPidPath(home: string): string {
  return path.join(home, 'daemon.pid');
}

/**
 * The pid in the data directory's lock file when that process is alive (a cheap look: no
 * connection), else undefined. A daemon writes it before it listens, so it may still be starting.
 */
export function daemonLockHolder(home: string): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(daemonPidPath(home), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
  return hasExited(pid) ? undefined : pid;
}

/**
 * True when `pid` has exited but not yet been reaped (a zombie, Linux): signal 0 still reaches it,
 * yet it holds nothing. A daemon killed with -9 stays one until its parent (often init) reaps it,
 * and a start in that moment must not take it for a live daemon.
 */
function hasExited(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return true;
  }
  // "pid (comm) S …": the name may hold spaces and parentheses, the state follows the last ')'.
  const state = stat.charAt(stat.lastIndexOf(')') + 2);
  return state === 'Z' || state === 'X';
}
