// Renders build/icon.svg and build/tray-template.svg to the PNGs electron-builder and the tray
// use, in Debian's Chromium: `npx tsx build/render-icons.ts`.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const dir = import.meta.dirname;
const svg = (name: string) => `data:image/svg+xml;base64,${fs.readFileSync(path.join(dir, name)).toString('base64')}`;

const targets: Array<{ source: string; out: string; size: number }> = [
  { source: 'icon.svg', out: 'icon.png', size: 512 },
  ...[16, 24, 32, 48, 64, 128, 256, 512].map((size) => ({
    source: 'icon.svg',
    out: `icons/${size}x${size}.png`,
    size,
  })),
  { source: 'icon.svg', out: 'icons/tray.png', size: 32 },
  { source: 'icon.svg', out: 'icons/tray@2x.png', size: 64 },
  { source: 'tray-template.svg', out: 'icons/trayTemplate.png', size: 22 },
  { source: 'tray-template.svg', out: 'icons/trayTemplate@2x.png', size: 44 },
];

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const page = await browser.newPage();
  for (const t of targets) {
    await page.setViewportSize({ width: t.size, height: t.size });
    await page.setContent(
      `<html><body style="margin:0;background:transparent"><img src="${svg(t.source)}" width="${t.size}" height="${t.size}" style="display:block"></body></html>`,
    );
    await page.locator('img').evaluate((img: HTMLImageElement) => img.decode());
    fs.mkdirSync(path.dirname(path.join(dir, t.out)), { recursive: true });
    await page.screenshot({ path: path.join(dir, t.out), omitBackground: true });
    console.log(`${t.out} ${t.size}x${t.size}`);
  }
} finally {
  await browser.close();
}
