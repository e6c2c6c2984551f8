import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ElectronSeam } from './seam';

/** The flag a login start passes, so the app comes up in the tray without opening its window. */
export const HIDDEN_FLAG = '--hidden';

/** Starting bella when the user logs in. */
export interface StartAtLogin {
  isEnabled(): boolean;
  setEnabled(enabled: boolean): void;
}

/** Where XDG autostart entries live (`$XDG_CONFIG_HOME/autostart`). */
export function autostartDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'autostart');
}

/** Quotes one argument of a desktop entry's Exec key (Desktop Entry Specification, "Exec key"). */
export function quoteExecArg(arg: string): string {
  return /^[A-Za-z0-9_./+:=@%-]+$/.test(arg) ? arg : `"${arg.replace(/(["`$\\])/g, '\\$1')}"`;
}

/** The text of bella's XDG autostart entry. */
export function desktopEntry(command: readonly string[]): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=bella',
    'Comment=Short-lived, scoped, audited secret leases',
    `Exec=${command.map(quoteExecArg).join(' ')}`,
    'Icon=bella',
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

/**
 * Start at login through Electron's login items on macOS and Windows, and an XDG autostart
 * entry on Linux (where Electron has none). `command` is how to launch this app.
 */
export function createStartAtLogin(
  seam: Pick<ElectronSeam, 'platform' | 'getLoginItemSettings' | 'setLoginItemSettings'>,
  command: readonly string[],
  dir: string = autostartDir(),
): StartAtLogin {
  if (seam.platform !== 'linux') {
    return {
      isEnabled: () => seam.getLoginItemSettings().openAtLogin,
      setEnabled: (enabled) => seam.setLoginItemSettings({ openAtLogin: enabled, args: [HIDDEN_FLAG] }),
    };
  }
  const file = path.join(dir, 'bella.desktop');
  return {
    isEnabled: () => fs.existsSync(file),
    setEnabled(enabled) {
      if (enabled) {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(file, desktopEntry([...command, HIDDEN_FLAG]), { mode: 0o644 });
      } else {
        fs.rmSync(file, { force: true });
      }
    },
  };
}

/** How to launch this app again: the AppImage when run from one, else the binary (plus the app dir in development). */
export function launchCommand(ctx: {
  isPackaged: boolean;
  execPath: string;
  appPath: string;
  env: NodeJS.ProcessEnv;
}): string[] {
  if (ctx.env.APPIMAGE) return [ctx.env.APPIMAGE];
  return ctx.isPackaged ? [ctx.execPath] : [ctx.execPath, ctx.appPath];
}
