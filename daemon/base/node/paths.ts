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
