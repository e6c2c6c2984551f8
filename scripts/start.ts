// `npm start` (after `npm run build`): starts the daemon, then opens the desktop app. Where the
// app cannot open (no display, no Electron binary) it says so in one line, points at the CLI,
// leaves the daemon running and exits 0.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Connector, resolveHome, resolveSocket } from '../daemon/client';

const root = path.resolve(import.meta.dirname, '..');

/** Why the desktop app cannot open here, or null when it can try. */
export function displayProblem(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string | null {
  if (platform !== 'linux' && platform !== 'freebsd' && platform !== 'openbsd') return null;
  if (env.DISPLAY || env.WAYLAND_DISPLAY) return null;
  return 'there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)';
}

/** The outcome of looking for the Electron binary. */
export type ElectronBinary = { ok: true; path: string } | { ok: false; problem: string };

/**
 * Finds Electron's binary: `require('electron')` returns its path and downloads it on first use.
 * Done in a child process so a failed download's output stays out of the terminal.
 */
export function findElectron(timeoutMs = 180_000): ElectronBinary {
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE;
  const r = spawnSync(process.execPath, ['-e', "process.stdout.write(require('electron'))"], {
    cwd: root,
    encoding: 'utf8',
    timeout: timeoutMs,
    env,
  });
  const binary = r.stdout?.trim();
  if (r.status === 0 && binary && fs.existsSync(binary)) return { ok: true, path: binary };
  return { ok: false, problem: 'the Electron binary is not installed and could not be downloaded' };
}

/** The one line printed when the app cannot open. */
export function cliHint(problem: string, socket: string): string {
  return `bella: cannot open the desktop app: ${problem}. The daemon is running on ${socket}; use the CLI instead: npx bella --help`;
}

/** Starts the daemon (if none runs), then the app or the one-line hint. Resolves to the exit code. */
export async function start(options: {
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
  locateElectron?: () => ElectronBinary;
  out?: (line: string) => void;
}): Promise<number> {
  const env = options.env ?? process.env;
  const out = options.out ?? ((line) => console.log(line));
  const home = resolveHome();
  const socket = resolveSocket(home);
  const daemonScript = path.join(root, 'dist', 'daemon.cjs');
  if (!fs.existsSync(daemonScript)) {
    out('bella: dist/daemon.cjs is missing: run `npm run build` first (npm start does it for you)');
    return 1;
  }
  try {
    const { client } = await new Connector(
      { home, socket },
      { daemonScript, execPath: process.execPath, env },
    ).running();
    client.close();
  } catch (err) {
    out(`bella: the daemon did not start: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }

  const noDisplay = displayProblem(options.platform ?? process.platform, env);
  if (noDisplay) {
    out(cliHint(noDisplay, socket));
    return 0;
  }
  const electron = (options.locateElectron ?? findElectron)();
  if (!electron.ok) {
    out(cliHint(electron.problem, socket));
    return 0;
  }

  const appEnv = { ...env };
  delete appEnv.ELECTRON_RUN_AS_NODE;
  return new Promise((resolve) => {
    const child = spawn(electron.path, [root], { stdio: 'inherit', env: appEnv });
    child.on('error', (err) => {
      out(cliHint(`Electron could not be started (${err.message})`, socket));
      resolve(0);
    });
    child.on('exit', (code, signal) => resolve(signal ? 1 : (code ?? 0)));
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = await start({});
}
