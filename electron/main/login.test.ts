import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeSeam } from './testing/fake-seam';
import { HIDDEN_FLAG, createStartAtLogin, desktopEntry, launchCommand, quoteExecArg } from './login';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('start at login', () => {
  it('Linux: writes and removes an XDG autostart entry that starts hidden', () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bella-login-')), 'autostart');
    dirs.push(path.dirname(dir));
    const seam = new FakeSeam();
    const login = createStartAtLogin(seam, ['/opt/My Apps/bella-desktop'], dir);
    expect(login.isEnabled()).toBe(false);
    login.setEnabled(true);
    expect(login.isEnabled()).toBe(true);
    const text = fs.readFileSync(path.join(dir, 'bella.desktop'), 'utf8');
    expect(text).toContain('[Desktop Entry]');
    expect(text).toContain(`Exec="/opt/My Apps/bella-desktop" ${HIDDEN_FLAG}`);
    login.setEnabled(false);
    expect(login.isEnabled()).toBe(false);
    login.setEnabled(false);
  });

  it('macOS and Windows: Electron login items, starting hidden', () => {
    for (const platform of ['darwin', 'win32'] as const) {
      const seam = new FakeSeam();
      seam.platform = platform;
      const login = createStartAtLogin(seam, ['/Applications/bella.app'], '/nonexistent');
      login.setEnabled(true);
      expect(seam.login).toEqual({ openAtLogin: true, args: [HIDDEN_FLAG] });
      expect(login.isEnabled()).toBe(true);
      login.setEnabled(false);
      expect(login.isEnabled()).toBe(false);
    }
  });

  it('quotes Exec arguments per the desktop entry spec', () => {
    expect(quoteExecArg('/usr/bin/bella')).toBe('/usr/bin/bella');
    expect(quoteExecArg('/a b/$x"`\\')).toBe('"/a b/\\$x\\"\\`\\\\"');
    expect(desktopEntry(['/x', '--hidden'])).toMatch(/^Exec=\/x --hidden$/m);
  });

  it('launches the AppImage when run from one, else the binary (plus the app dir in development)', () => {
    const base = { execPath: '/e', appPath: '/src', env: {} };
    expect(launchCommand({ ...base, isPackaged: true })).toEqual(['/e']);
    expect(launchCommand({ ...base, isPackaged: false })).toEqual(['/e', '/src']);
    expect(launchCommand({ ...base, isPackaged: true, env: { APPIMAGE: '/home/u/bella.AppImage' } })).toEqual([
      '/home/u/bella.AppImage',
    ]);
  });
});
