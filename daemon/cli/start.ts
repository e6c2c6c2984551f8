// The CLI's entry as built (dist/cli.cjs, CommonJS; bin/bella.cjs and bin/bella.mjs require it).
// It runs the CLI bundle (dist/cli-ID.cjs, built from main.ts) with V8's code cache made by the
// build (dist/cli-ID.cache), so most of the bundle's functions are not compiled again on every
// run. ID is the bundle's content hash, fixed into this file by the build, so the cache read is
// always the one made from this very bundle; V8 itself refuses a cache of another V8 version or
// flags (Electron's Node, another Node), and the bundle is then compiled as without one.
// Named imports: esbuild's CommonJS output copies a whole module for a default import.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { wrapBundle } from './bundle-wrap';

// As in main.ts, before anything else: no inspector on SIGUSR1 in a process that holds a token.
process.on('SIGUSR1', () => {});

/** Set by scripts/build-cli.ts: the bundle's file name without extension (`cli-ID`). */
declare const BELLA_CLI_BUNDLE: string;

const file = join(__dirname, `${BELLA_CLI_BUNDLE}.cjs`);
let cachedData: Buffer | undefined;
try {
  cachedData = readFileSync(join(__dirname, `${BELLA_CLI_BUNDLE}.cache`));
} catch {
  // No cache (a build that could not make one): compiled from source.
}
const script = new Script(wrapBundle(readFileSync(file, 'utf8')), {
  filename: file,
  cachedData,
});
const main = { exports: {} };
(script.runInThisContext() as (...args: unknown[]) => void)(
  main.exports,
  createRequire(file),
  main,
  file,
  __dirname,
  // \`bella daemon run\` imports dist/daemon.js, an ES module, through this file's own import().
  (url: string) => import(url),
);
