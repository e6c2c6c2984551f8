import { spawn } from 'node:child_process';
import { findOnPath } from './notify-send';

/** Opens the desktop app on one screen (`requests/req_…`): what a notification's action does. */
export interface AppOpener {
  open(route: string): void;
}

/** The packaged app's executable (electron-builder.yml `executableName`). */
const APP_EXECUTABLE = 'bella-desktop';

/** The flag the app reads on start and from a second launch: `--open=requests/req_…`. */
export function openFlag(route: string): string {
  return `--open=${route}`;
}

/**
 * How the app is launched: `BELLA_APP_COMMAND` (a JSON array of argv, set by the desktop app when
 * it starts the daemon: its own launch command), else `bella-desktop` on PATH (an installed app);
 * null when neither is there (a headless box: notifications then carry no action). A malformed
 * `BELLA_APP_COMMAND` is logged and then ignored, as if unset.
 */
export function appCommand(env: NodeJS.ProcessEnv, log: (msg: string) => void): string[] | null {
  const raw = env.BELLA_APP_COMMAND;
  if (raw) {
    const argv = parseArgv(raw);
    if (argv) return argv;
    log('BELLA_APP_COMMAND is ignored: set it to a JSON array of non-empty strings, e.g. ["/opt/bella/bella-desktop"]');
  }
  const installed = findOnPath(APP_EXECUTABLE, env.PATH);
  return installed ? [installed] : null;
}

function parseArgv(raw: string): string[] | null {
  let argv: unknown;
  try {
    argv = JSON.parse(raw);
  } catch {
    return null;
  }
  const valid = Array.isArray(argv) && argv.length > 0 && argv.every((a) => typeof a === 'string' && a.length > 0);
  return valid ? (argv as string[]) : null;
}

/**
 * Launches the app with `--open=ROUTE`: a second launch hands its arguments to the running app
 * (single instance), which shows that screen; with none running, it starts on it. Argv, no shell.
 */
export function createAppOpener(env: NodeJS.ProcessEnv, log: (msg: string) => void): AppOpener | null {
  const command = appCommand(env, log);
  if (!command) return null;
  const [file, ...args] = command as [string, ...string[]];
  return {
    open(route) {
      try {
        const child = spawn(file, [...args, openFlag(route)], {
          detached: true,
          stdio: 'ignore',
          shell: false,
          env: { ...env, ELECTRON_RUN_AS_NODE: undefined },
        });
        child.once('error', (err) => log(`could not open the desktop app (${file}): ${err.message}`));
        child.unref();
      } catch (err) {
        log(`could not open the desktop app (${file}): ${(err as Error).message}`);
      }
    },
  };
}
