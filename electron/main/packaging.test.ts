import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { packagedDaemonScript } from './daemon-connection';

const root = path.resolve(import.meta.dirname, '../..');
const config = parse(fs.readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as Record<string, unknown> & {
  files: string[];
  asarUnpack: string[];
  extraResources: Array<{ from: string; to: string }>;
  linux: { executableName: string; target: string[]; icon: string };
  mac: { target: string[]; icon: string };
  win: { target: string[]; icon: string };
  electronFuses: Record<string, boolean>;
};

function pngSize(file: string): [number, number] {
  const buf = fs.readFileSync(file);
  expect(buf.subarray(1, 4).toString('latin1')).toBe('PNG');
  return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
}

describe('electron-builder.yml', () => {
  it('passes electron-builder’s own configuration schema', async () => {
    const require = createRequire(import.meta.url);
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
      validateConfiguration(c: unknown, logger: unknown): Promise<void>;
    };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
  });

  it('targets AppImage and deb, dmg, nsis', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.win.target).toEqual(['nsis']);
  });

  it('ships the app, the daemon and the CLI, unpacked where Electron-as-Node runs them', () => {
    for (const entry of ['out/**', 'dist/**', 'bin/**', 'package.json']) expect(config.files).toContain(entry);
    for (const entry of ['dist/**', 'bin/**', 'node_modules/**']) expect(config.asarUnpack).toContain(entry);
    expect(packagedDaemonScript('/r')).toBe(path.join('/r', 'app.asar.unpacked', 'dist', 'daemon.cjs'));
    expect(config.electronFuses.runAsNode).toBe(true);
  });

  it('puts the tray and window icons where main looks for them', () => {
    const icons = config.extraResources.find((r) => r.from === 'build/icons');
    expect(icons?.to).toBe('icons');
    for (const name of ['tray.png', 'trayTemplate.png', '512x512.png']) {
      expect(fs.existsSync(path.join(root, 'build/icons', name)), name).toBe(true);
    }
  });

  it('has real icons: build/icon.png 512x512 and the Linux size set', () => {
    expect(pngSize(path.join(root, 'build/icon.png'))).toEqual([512, 512]);
    for (const size of [16, 32, 48, 64, 128, 256, 512]) {
      expect(pngSize(path.join(root, `build/icons/${size}x${size}.png`))).toEqual([size, size]);
    }
    expect(pngSize(path.join(root, 'build/icons/trayTemplate@2x.png'))).toEqual([44, 44]);
  });

  it('ships CLI launchers that run the packaged CLI on the app binary', () => {
    expect(config.extraResources.find((r) => r.from === 'build/bin')?.to).toBe('bin');
    const sh = fs.readFileSync(path.join(root, 'build/bin/bella'), 'utf8');
    expect(sh).toContain(`$app/${config.linux.executableName}`);
    expect(sh).toContain('ELECTRON_RUN_AS_NODE=1 exec');
    expect(sh).toContain('app.asar.unpacked/bin/bella.cjs');
    expect(fs.statSync(path.join(root, 'build/bin/bella')).mode & 0o111).not.toBe(0);
    const cmd = fs.readFileSync(path.join(root, 'build/bin/bella.cmd'), 'utf8');
    expect(cmd).toContain('app.asar.unpacked\\bin\\bella.cjs');
    expect(fs.existsSync(path.join(root, 'bin/bella.cjs'))).toBe(true);
  });
});
