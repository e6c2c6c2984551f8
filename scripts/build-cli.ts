// Builds the `bella` CLI (`npm run build:cli`, part of build:daemon):
// - dist/cli.cjs, dist/cli-ID.cjs, dist/cli-ID.cache and dist/chunks/*.cjs: the CLI that
//   bin/bella.cjs (the installed `bella`) and bin/bella.mjs run. CommonJS with V8's code cache,
//   built split (the rare groups' packages stay in chunks of their own, loaded on demand):
//   scripts/build-split.ts; docs/decisions.md, "CLI start-up".
// - dist/bella.mjs: the one-file CLI the listener serves (`GET /v1/cli/bella.mjs`): every package
//   inlined, no chunks, an ES module for Node 20+.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { build } from 'esbuild';
import { buildEntry, buildSplit, common, dist, removeEarlier } from './build-split';

async function buildCli(): Promise<void> {
  const { bundle, written } = await buildSplit({
    name: 'cli',
    entryPoint: 'daemon/cli/main.ts',
    chunkNames: 'chunks/[name]-[hash]',
  });
  writeCodeCache(path.join(dist, `${bundle}.cjs`), path.join(dist, `${bundle}.cache`));
  written.add(path.join(dist, `${bundle}.cache`));
  written.add(await buildEntry('daemon/cli/start.ts', 'cli', { BELLA_CLI_BUNDLE: JSON.stringify(bundle) }));
  // dist/cli.js and dist/chunks/*.js are the ES module CLI of builds before the CommonJS one.
  removeEarlier(dist, written, (name) => /^cli(-[0-9a-f]{16}\.(cjs|cache)|\.js)$/.test(name));
  removeEarlier(path.join(dist, 'chunks'), written, (name) => /\.c?js$/.test(name));
}

/**
 * V8's code cache for the bundle, made by the Node that builds it (the one that runs it, most
 * often): the bundle compiled as daemon/base/node/bundle.ts compiles it (its file's text), then run as
 * `bella --version` so the functions every run calls at start-up are compiled too, and the cache
 * taken at exit. Not sealed (daemon/base/node/bundle-seal.ts): that would load node:crypto in every
 * `bella` run.
 */
function writeCodeCache(bundle: string, cache: string): void {
  const make = `
    const fs = require('node:fs'), vm = require('node:vm'), Module = require('node:module');
    const [file, out] = process.argv.slice(1);
    const script = new vm.Script(fs.readFileSync(file, 'utf8'), { filename: file });
    process.argv = [process.argv[0], file, '--version'];
    process.on('exit', () => fs.writeFileSync(out, script.createCachedData()));
    const main = { exports: {} };
    const dir = require('node:path').dirname(file);
    script.runInThisContext()(main.exports, Module.createRequire(file), main, file, dir, (url) => import(url));
  `;
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  execFileSync(process.execPath, ['-e', make, bundle, cache], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function buildOneFile(): Promise<void> {
  await build({ ...common, entryPoints: ['daemon/cli/main.ts'], format: 'esm', outfile: path.join(dist, 'bella.mjs') });
}

await Promise.all([buildCli(), buildOneFile()]);
