// What the CLI's and the daemon's builds share (scripts/build-cli.ts, scripts/build-daemon.ts):
// an entry point bundled as ES modules with splitting (what is loaded on demand stays in chunks
// of its own), each output file then turned into CommonJS on its own, since esbuild cannot split
// a CommonJS build. CommonJS, so Node starts it without its ES module loader, whose file reads go
// through libuv's thread pool, and so the bundle can run with V8's code cache
// (daemon/base/node/bundle.ts; docs/decisions.md, "CLI start-up" and "Daemon start-up").
// The entry file dist/NAME.cjs names the bundle dist/NAME-ID.cjs, ID its content hash, and so
// names its code cache dist/NAME-ID.cache.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, transform, type BuildOptions } from 'esbuild';
import { wrapBundle } from '../daemon/base/node/bundle';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const dist = path.join(root, 'dist');

export const common: BuildOptions = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  // yaml's ES module build: its CommonJS one calls require, which an ES module bundle lacks.
  alias: { yaml: './node_modules/yaml/browser/index.js' },
};

/** How each CommonJS file learns its own URL (daemon/cli/daemon-script.ts finds dist/daemon.cjs by it). */
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

/** An ES module output file of the split build, as a CommonJS file in its wrapper (daemon/base/node/bundle.ts). */
export async function toCommonJs(text: string, minifyWhitespace = false): Promise<string> {
  // What is loaded on demand is read with require, as the entry reads its static chunks, not
  // through Node's ES module loader; a package outside the bundle (`import("pg")`) through the
  // entry's own import() (daemon/base/node/bundle.ts), as the ES module build imported it.
  const source = text
    .replace(
      /(?<![\w$.])import\("(\.\.?\/[^"]+\.cjs)"\)/g,
      (_, file: string) => `Promise.resolve().then(() => require(${JSON.stringify(file)}))`,
    )
    .replace(
      /(?<![\w$.])import\(("node:[a-z_/]+")\)/g,
      (_, name: string) => `Promise.resolve().then(() => __bella_builtin(${name}))`,
    )
    .replace(/(?<![\w$.])import\(("[^".][^"]*")\)/g, (_, name: string) => `__bella_import(${name})`);
  const { code } = await transform(source, {
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
    minifyWhitespace,
  });
  const cjs = code.replace(/__toESM\(require\(("node:[a-z_/]+")\)\)/g, '__bella_builtin($1)');
  // Strict, as the ES modules it was built from were.
  const banners = [
    '"use strict";',
    source.includes('__bella_url') ? URL_BANNER : '',
    cjs.includes('__bella_builtin(') ? BUILTIN_BANNER : '',
  ];
  return wrapBundle(`${banners.filter(Boolean).join('\n')}\n${cjs}`);
}

/**
 * Builds `entryPoint` split, as CommonJS files: the bundle as dist/NAME-ID.cjs, its chunks named
 * by `chunkNames` (relative to dist/). Returns the bundle's name (`NAME-ID`) and the files written.
 */
export async function buildSplit(options: {
  name: string;
  entryPoint: string;
  chunkNames: string;
  minifyWhitespace?: boolean;
  /** More esbuild options (e.g. `external`). */
  esbuild?: BuildOptions;
}): Promise<{ bundle: string; written: Set<string> }> {
  const { name, minifyWhitespace } = options;
  const result = await build({
    ...common,
    ...options.esbuild,
    entryPoints: { [name]: options.entryPoint },
    format: 'esm',
    splitting: true,
    outdir: dist,
    chunkNames: options.chunkNames,
    outExtension: { '.js': '.cjs' },
    minifyWhitespace,
    define: { 'import.meta.url': '__bella_url' },
    write: false,
  });
  const written = new Set<string>();
  let bundle = '';
  for (const file of result.outputFiles) {
    let target = file.path;
    const text = await toCommonJs(file.text, minifyWhitespace);
    if (target === path.join(dist, `${name}.cjs`)) {
      bundle = `${name}-${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
      target = path.join(dist, `${bundle}.cjs`);
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, text);
    written.add(target);
  }
  return { bundle, written };
}

/**
 * The entry dist/NAME.cjs, built from `start` with the bundle's name fixed into it as `define`.
 * Written after the bundle, so a build that fails half-way leaves it naming a complete earlier one.
 */
export async function buildEntry(start: string, name: string, define: Record<string, string>): Promise<string> {
  const outfile = path.join(dist, `${name}.cjs`);
  await build({ ...common, entryPoints: [start], format: 'cjs', outfile, define });
  return outfile;
}

/** Removes the files of earlier builds in `dir` (their names carry a content hash) that `isEarlier` picks and this one did not write. */
export function removeEarlier(dir: string, written: Set<string>, isEarlier: (name: string) => boolean): void {
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    if (isEarlier(name) && !written.has(file)) fs.rmSync(file);
  }
}
