import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { build as esbuild } from 'esbuild';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import react from '@vitejs/plugin-react';
import { build as viteBuild } from 'vite';
import { afterAll } from 'vitest';
import type { DaemonEvent } from '../../daemon/api/events';
import { DaemonClient } from '../../daemon/client/client';
import { createRelay, type Relay } from '../../electron/main/relay';

/** The repository root. */
export const ROOT = path.resolve(import.meta.dirname, '../..');
/**
 * This test file's scratch directory (the renderer build, the screenshots), removed when the file's
 * tests end: a test run writes nothing into the repository.
 */
const SCRATCH = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-e2e-'));
afterAll(() => fs.rmSync(SCRATCH, { recursive: true, force: true }));

/**
 * Where the suite's screenshots go: a scratch directory, or `BELLA_SCREENSHOTS` (relative to the
 * repository), which `npm run screenshots` sets to docs/screenshots to refresh the committed ones.
 */
export const SCREENSHOTS = process.env.BELLA_SCREENSHOTS
  ? path.resolve(ROOT, process.env.BELLA_SCREENSHOTS)
  : path.join(SCRATCH, 'screenshots');

/** Builds the renderer the way electron.vite.config.ts does, into this test file's scratch directory. */
export async function buildRenderer(dir = 'renderer'): Promise<string> {
  const outDir = path.join(SCRATCH, dir);
  // vitest sets NODE_ENV=test, which would make this a development build of React (as the app never ships).
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await viteBuild({
      configFile: false,
      root: path.join(ROOT, 'renderer'),
      base: './',
      mode: 'production',
      plugins: [react()],
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true },
    });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  return outDir;
}

/** The browser side of the bridge: createBellaApi from the preload, bundled as one script. */
export async function bundleBridge(): Promise<string> {
  const out = await esbuild({
    entryPoints: [path.join(import.meta.dirname, 'bridge-entry.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    logLevel: 'warning',
  });
  return out.outputFiles[0]!.text;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** Serves a directory on 127.0.0.1 (a secure context, like Electron's file://). */
export async function serveDir(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = path.join(dir, urlPath === '/' ? 'index.html' : urlPath);
    if (!file.startsWith(dir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/`,
    // Kept-alive connections of the browser would hold close() open until they idle out.
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** A real daemon on a temp data dir and a short socket path. */
export interface TestDaemon {
  home: string;
  socket: string;
  client: DaemonClient;
  /** Runs the real CLI against this daemon. */
  cli(args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/** Starts `node dist/daemon.cjs --home H --socket S` (with `env` added) and waits until it answers. */
export async function startDaemon(options: { env?: NodeJS.ProcessEnv } = {}): Promise<TestDaemon> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-e2e-'));
  const socket = path.join(home, 's.sock');
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(ROOT, 'dist/daemon.cjs'), '--home', home, '--socket', socket],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env, BELLA_HOME: home, BELLA_SOCKET: socket },
    },
  );
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const client = new DaemonClient({ socketPath: socket });
  const deadline = Date.now() + 20_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the daemon exited (${child.exitCode}):\n${output}`);
      if (await client.ping().catch(() => false)) break;
      if (Date.now() > deadline) throw new Error(`the daemon did not answer on ${socket}:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    client.close();
    child.kill('SIGKILL');
    fs.rmSync(home, { recursive: true, force: true });
    throw err;
  }
  return {
    home,
    socket,
    client,
    async cli(args, env) {
      return new Promise((resolve) => {
        execFile(
          process.execPath,
          [path.join(ROOT, 'dist/cli.cjs'), ...args, '--home', home, '--socket', socket],
          { env: { ...process.env, BELLA_HOME: home, BELLA_SOCKET: socket, NO_COLOR: '1', ...env }, timeout: 20_000 },
          (err, stdout, stderr) => {
            const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
            resolve({ code, stdout: String(stdout), stderr: String(stderr) });
          },
        );
      });
    },
    async stop() {
      client.close();
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The app in Chromium with window.bella bridged to a daemon through the real relay. */
export interface TestApp {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  relay: Relay;
  /** Uncaught page errors and console errors (CSP violations among them). */
  errors: string[];
  close(): Promise<void>;
}

/** Debian's Chromium (`.ci/run` installs it). */
const CHROMIUM = '/usr/bin/chromium';

/** Launches Debian's Chromium on the built renderer, with only the Electron transport replaced. */
export async function launchApp(
  url: string,
  socket: string,
  relay: Relay = createRelay(async () => new DaemonClient({ socketPath: socket })),
): Promise<TestApp> {
  // Checked first: a launch that fails to find the binary leaves Playwright's temp dirs behind.
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with \`apt-get install chromium\``);
  const bridge = await bundleBridge();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    colorScheme: 'light',
    acceptDownloads: true,
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(url).origin });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  // In place of ipcRenderer.invoke → ipcMain.handle: the same relay, called from the page.
  await page.exposeFunction('__bellaInvoke', (op: string, input: unknown) => relay.invoke(op, input));
  await page.addInitScript({ content: bridge });
  // In place of webContents.send: relay events pushed into the page.
  const unsubscribe = relay.subscribe((event: DaemonEvent) => {
    page
      .evaluate((e) => (window as unknown as { __bellaEmit?: (e: unknown) => void }).__bellaEmit?.(e), event)
      .catch(() => {});
  });
  await page.goto(url);
  return {
    browser,
    context,
    page,
    relay,
    errors,
    async close() {
      unsubscribe();
      relay.close();
      await browser.close();
    },
  };
}

/** Saves a 1280×800 screenshot of the page in the light and the dark theme. */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await page.screenshot({
      path: path.join(SCREENSHOTS, `${name}-${scheme}.png`),
      animations: 'disabled',
      caret: 'hide',
    });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}
