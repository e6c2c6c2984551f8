// Builds the `bella` CLI (`npm run build:cli`, part of build:daemon):
// - dist/cli.cjs and dist/chunks/*.cjs: the CLI that bin/bella.cjs (the installed `bella`) and
//   bin/bella.mjs run. CommonJS, so Node starts it without its ES module loader, whose file reads
//   go through libuv's thread pool (docs/decisions.md, "CLI start-up"). esbuild cannot split a
//   CommonJS build, so the CLI is bundled as ES modules with splitting (the rare groups' packages
//   stay in chunks of their own, loaded on demand) and each output file is then turned into
//   CommonJS on its own.
// - dist/bella.mjs: the one-file CLI the listener serves (`GET /v1/cli/bella.mjs`): every package
//   inlined, no chunks, an ES module for Node 20+.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, transform, type BuildOptions } from 'esbuild';

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
 * One memoised wrapper per built-in module. esbuild's CommonJS output wraps every default import
 * of a built-in (`import fs from 'node:fs'`, once per source module: 29 times in the CLI) in
 * `__toESM(require(…))`, which copies all of the module's properties each time.
 */
const BUILTIN_BANNER =
  'var __bella_builtins = {}, __bella_builtin = (m) => __bella_builtins[m] ??= __toESM(require(m));';

/** An ES module output file of the split build, as a CommonJS file. */
async function toCommonJs(text: string): Promise<string> {
  // A chunk loaded on demand is read with require, as the entry reads its static chunks, not
  // through Node's ES module loader; `import(url)` of dist/daemon.js (`bella daemon run`) stays.
  const source = text.replace(
    /\bimport\("(\.\.?\/[^"]+\.cjs)"\)/g,
    (_, file: string) => `Promise.resolve().then(() => require(${JSON.stringify(file)}))`,
  );
  const { code } = await transform(source, { format: 'cjs', platform: 'node', target: 'node20', logLevel: 'warning' });
  const builtins = code.replace(/__toESM\(require\(("node:[a-z_/]+")\)\)/g, '__bella_builtin($1)');
  // Strict, as the ES modules it was built from were.
  const banners = [
    '"use strict";',
    source.includes('__bella_url') ? URL_BANNER : '',
    builtins !== code ? BUILTIN_BANNER : '',
  ];
  return `${banners.filter(Boolean).join('\n')}\n${builtins}`;
}

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
    write: false,
  });
  const written = new Set<string>();
  for (const file of result.outputFiles) {
    fs.mkdirSync(path.dirname(file.path), { recursive: true });
    fs.writeFileSync(file.path, await toCommonJs(file.text));
    written.add(file.path);
  }
  // Chunks of earlier builds (their names carry a content hash) would otherwise pile up in dist/.
  const chunks = path.join(dist, 'chunks');
  for (const name of fs.readdirSync(chunks)) {
    const file = path.join(chunks, name);
    if (name.endsWith('.cjs') && !written.has(file)) fs.rmSync(file);
  }
}

async function buildOneFile(): Promise<void> {
  await build({ ...common, entryPoints: ['daemon/cli/main.ts'], format: 'esm', outfile: path.join(dist, 'bella.mjs') });
}

await Promise.all([buildCli(), buildOneFile()]);
