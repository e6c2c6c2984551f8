// Builds the `bella` CLI (`npm run build:cli`, part of build:daemon):
// - dist/cli.cjs and dist/chunks/*.cjs: the CLI that bin/bella.cjs (the installed `bella`) and
//   bin/bella.mjs run. CommonJS, so Node starts it without its ES module loader, whose file reads
//   go through libuv's thread pool (docs/decisions.md, "CLI start-up"). esbuild cannot split a
//   CommonJS build, so the CLI is bundled as ES modules with splitting (the rare groups' packages
//   stay in chunks of their own, loaded on demand) and each output file is then turned into
//   CommonJS on its own.
// - dist/bella.mjs: the one-file CLI the listener serves (`GET /v1/cli/bella.mjs`): every package
//   inlined, no chunks, an ES module for Node 20+.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, transform, type BuildOptions, type Plugin } from 'esbuild';
import { wrapBundle } from '../daemon/cli/bundle-wrap';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');

const common: BuildOptions = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  // yaml's ES module build: its CommonJS one calls require, which an ES module bundle lacks.
  alias: { yaml: './node_modules/yaml/browser/index.js' },
};

/** How each CommonJS file learns its own URL (daemon/cli/daemon-script.ts finds dist/daemon.js by it). */
const URL_BANNER = "const __bella_url = require('node:url').pathToFileURL(__filename).href;";

/**
 * One memoised namespace per built-in module, as `import` gives it (its exports and `default`).
 * esbuild's CommonJS output wraps every default import of a built-in (`import fs from 'node:fs'`,
 * once per source module: 29 times in the CLI) in `__toESM(require(…))`, which copies all of the
 * module's properties each time; and `import('node:net')` would start Node's ES module loader.
 */
const BUILTIN_BANNER = `var __bella_builtins = {}, __bella_builtin = (m) => __bella_builtins[m] ??= ((mod) => {
  const ns = { default: mod };
  for (const k of Object.getOwnPropertyNames(mod)) if (k !== "default") Object.defineProperty(ns, k, { get: () => mod[k], enumerable: true });
  return ns;
})(require(m));`;

/** An ES module output file of the split build, as a CommonJS file. */
async function toCommonJs(text: string): Promise<string> {
  // What is loaded on demand is read with require, as the entry reads its static chunks, not
  // through Node's ES module loader (daemon-import.ts's import() of dist/daemon.js: importFromEntry).
  const source = text
    .replace(
      /\bimport\("(\.\.?\/[^"]+\.cjs)"\)/g,
      (_, file: string) => `Promise.resolve().then(() => require(${JSON.stringify(file)}))`,
    )
    .replace(
      /\bimport\(("node:[a-z_/]+")\)/g,
      (_, name: string) => `Promise.resolve().then(() => __bella_builtin(${name}))`,
    );
  const { code } = await transform(source, { format: 'cjs', platform: 'node', target: 'node20', logLevel: 'warning' });
  const cjs = code.replace(/__toESM\(require\(("node:[a-z_/]+")\)\)/g, '__bella_builtin($1)');
  // Strict, as the ES modules it was built from were.
  const banners = [
    '"use strict";',
    source.includes('__bella_url') ? URL_BANNER : '',
    cjs.includes('__bella_builtin(') ? BUILTIN_BANNER : '',
  ];
  return `${banners.filter(Boolean).join('\n')}\n${cjs}`;
}

/** daemon/cli/daemon-import.ts's import() is dist/cli.cjs's own (see there). */
const importFromEntry: Plugin = {
  name: 'bella-import-from-entry',
  setup(b) {
    b.onLoad({ filter: /[\\/]daemon[\\/]cli[\\/]daemon-import\.ts$/ }, () => ({
      contents: 'export function importDaemon(url) { return __bella_import(url); }',
      loader: 'js',
    }));
  },
};

async function buildCli(): Promise<void> {
  const result = await build({
    ...common,
    entryPoints: { cli: 'daemon/cli/main.ts' },
    format: 'esm',
    splitting: true,
    outdir: dist,
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.cjs' },
    define: { 'import.meta.url': '__bella_url' },
    plugins: [importFromEntry],
    write: false,
  });
  const written = new Set<string>();
  let bundle = '';
  for (const file of result.outputFiles) {
    let target = file.path;
    const text = await toCommonJs(file.text);
    if (target === path.join(dist, 'cli.cjs')) {
      // The bundle is named by its content, and so is its code cache: the entry names the pair.
      bundle = `cli-${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
      target = path.join(dist, `${bundle}.cjs`);
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, text);
    written.add(target);
  }
  writeCodeCache(path.join(dist, `${bundle}.cjs`), path.join(dist, `${bundle}.cache`));
  written.add(path.join(dist, `${bundle}.cache`));
  // Last, so a build that fails half-way leaves the entry naming a complete earlier pair.
  await build({
    ...common,
    entryPoints: ['daemon/cli/start.ts'],
    format: 'cjs',
    outfile: path.join(dist, 'cli.cjs'),
    define: { BELLA_CLI_BUNDLE: JSON.stringify(bundle) },
  });
  // Files of earlier builds (their names carry a content hash; dist/cli.js and dist/chunks/*.js
  // are the ES module CLI of builds before this one) would otherwise pile up in dist/.
  const earlier = (dir: string, name: string) =>
    dir === dist ? /^cli(-[0-9a-f]{16}\.(cjs|cache)|\.js)$/.test(name) : /\.c?js$/.test(name);
  for (const dir of [dist, path.join(dist, 'chunks')]) {
    for (const name of fs.readdirSync(dir)) {
      const file = path.join(dir, name);
      if (earlier(dir, name) && !written.has(file)) fs.rmSync(file);
    }
  }
}

/**
 * V8's code cache for the bundle, made by the Node that builds it (the one that runs it, most
 * often): the bundle compiled as daemon/cli/start.ts compiles it, then run as `bella --version`
 * so the functions every run calls at start-up are compiled too, and the cache taken at exit.
 */
function writeCodeCache(bundle: string, cache: string): void {
  const make = `
    const fs = require('node:fs'), vm = require('node:vm'), Module = require('node:module');
    const [file, out, before, after] = process.argv.slice(1);
    const script = new vm.Script(before + fs.readFileSync(file, 'utf8') + after, { filename: file });
    process.argv = [process.argv[0], file, '--version'];
    process.on('exit', () => fs.writeFileSync(out, script.createCachedData()));
    const main = { exports: {} };
    const dir = require('node:path').dirname(file);
    script.runInThisContext()(main.exports, Module.createRequire(file), main, file, dir, (url) => import(url));
  `;
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  // The wrapper's text around the bundle, as daemon/cli/start.ts wraps it.
  const [before, after] = wrapBundle('\0').split('\0');
  execFileSync(process.execPath, ['-e', make, bundle, cache, before!, after!], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function buildOneFile(): Promise<void> {
  await build({ ...common, entryPoints: ['daemon/cli/main.ts'], format: 'esm', outfile: path.join(dist, 'bella.mjs') });
}

await Promise.all([buildCli(), buildOneFile()]);
