import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connector, resolveHome, resolveSocket } from '../../daemon/client';
import { startApp } from './app';
import { createElectronSeam } from './electron-seam';
import type { RendererLocation } from './security';

const here = path.dirname(fileURLToPath(import.meta.url));
const seam = createElectronSeam();
const icons = seam.isPackaged ? path.join(seam.resourcesPath, 'icons') : path.join(seam.getAppPath(), 'build', 'icons');
const devUrl = process.env.ELECTRON_RENDERER_URL;
// The dev server is trusted only in development; a packaged app loads its own files only.
const renderer: RendererLocation =
  !seam.isPackaged && devUrl
    ? { kind: 'url', url: devUrl }
    : { kind: 'file', file: path.join(here, '..', 'renderer', 'index.html') };
const home = resolveHome();

startApp(seam, {
  renderer,
  preload: path.join(here, '..', 'preload', 'index.cjs'),
  windowIcon: path.join(icons, '512x512.png'),
  trayIcon: path.join(icons, process.platform === 'darwin' ? 'trayTemplate.png' : 'tray.png'),
  home,
  socket: resolveSocket(home),
  env: process.env,
  connector: (place, launch) => new Connector(place, launch),
}).catch((err: unknown) => {
  console.error('bella: could not start:', err);
  process.exit(1);
});
