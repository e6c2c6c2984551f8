// Builds the daemon (`npm run build:daemon`, after build:cli):
// - dist/daemon.cjs, dist/daemon-ID.cjs, dist/daemon-ID.cache and dist/daemon-*-HASH.cjs (its
//   chunks, loaded on demand): CommonJS with V8's code cache (scripts/build-split.ts,
//   daemon/server/start.ts; docs/decisions.md, "Daemon start-up (start3)"). The packages a daemon
//   loads only once used stay outside the bundle, as they are in node_modules.
// - dist/audit-verify.js: the worker that verifies the audit trail, an ES module.
// - dist/audit-scan.cjs: the worker that scans the trail's active segment at start (while the
//   lease table is read), CommonJS.
// BELLA_BUILD_PLAIN=1 keeps the bundle's whitespace, so a profile's line numbers name functions
// (bench/issue-profile.ts, bench/alloc-case.ts).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { buildEntry, buildSplit, dist, removeEarlier, root } from './build-split';

const EXTERNAL = [
  'pg',
  'jose',
  'standardwebhooks',
  'node-notifier',
  '@peculiar/x509',
  'reflect-metadata',
  'dotenv',
  'yaml',
];

async function buildDaemon(): Promise<void> {
  const { bundle, written } = await buildSplit({
    name: 'daemon',
    entryPoint: 'daemon/server/main.ts',
    chunkNames: 'daemon-[name]-[hash]',
    minifyWhitespace: process.env.BELLA_BUILD_PLAIN !== '1',
    // The daemon's packages as they are, not yaml's browser build.
    esbuild: { external: EXTERNAL, alias: {} },
  });
  written.add(await buildEntry('daemon/server/start.ts', 'daemon', { BELLA_DAEMON_BUNDLE: JSON.stringify(bundle) }));
  // Made again each build: one kept from an earlier build of the same bundle may lack its chunks'.
  removeEarlier(dist, new Set(), (name) => /^daemon-.*\.cache$/.test(name));
  const cache = path.join(dist, `${bundle}.cache`);
  await makeCodeCache(cache);
  written.add(cache);
  for (const name of fs.readdirSync(dist)) if (name.endsWith('.cache')) written.add(path.join(dist, name));
  // Earlier bundles, their caches, a temp file a daemon stopped while writing a cache left
  // (`.daemon-ID.cache.PID.RAND.tmp`), and the ES module entry of builds before this one
  // (dist/daemon.js and the maps). Chunks stay (`daemon-NAME-HASH.cjs`, and the ES module
  // build's `chunk-*.js`, `login-*.js`): a daemon running from an earlier build loads its lazy
  // ones from here (docs/decisions.md, "An empty daemon in less memory").
  removeEarlier(dist, written, (name) =>
    /^(daemon-[0-9a-f]{16}\.cjs|\.?daemon-.*\.(cache|tmp)|daemon\.js|.*\.js\.map)$/.test(name),
  );
}

/**
 * The bundle's code cache as a daemon makes it: one started on an empty home writes it once it
 * serves (daemon/server/start.ts), and is stopped. Should that fail, the first daemon to start
 * makes it instead.
 */
async function makeCodeCache(cache: string): Promise<void> {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-build-'));
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(
    process.execPath,
    [path.join(dist, 'daemon.cjs'), '--home', path.join(temp, 'home'), '--socket', path.join(temp, 'd.sock')],
    { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const deadline = Date.now() + 60_000;
    let gone = false;
    void exited.then(() => (gone = true));
    while (!fs.existsSync(cache) && !gone && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (!fs.existsSync(cache))
      process.stderr.write(`build-daemon: no code cache made (the first daemon makes it): ${stderr}\n`);
  } finally {
    child.kill('SIGTERM');
    await exited;
    fs.rmSync(temp, { recursive: true, force: true });
  }
}

async function buildWorkers(): Promise<void> {
  const common = {
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
    packages: 'external',
    outdir: dist,
  } as const;
  await Promise.all([
    build({ ...common, entryPoints: { 'audit-verify': 'daemon/store/audit/verify-worker.ts' }, format: 'esm' }),
    // CommonJS: a worker starts ~10 ms sooner on Node's CommonJS loader than on its ES module loader.
    build({
      ...common,
      entryPoints: { 'audit-scan': 'daemon/store/audit/scan-worker.ts' },
      format: 'cjs',
      outExtension: { '.js': '.cjs' },
    }),
  ]);
}

await Promise.all([buildDaemon(), buildWorkers()]);
