// How a built entry (dist/cli.cjs, dist/daemon.cjs) runs its bundle (dist/NAME-ID.cjs, CommonJS,
// built by scripts/build-split.ts): compiled in a `vm.Script` with V8's code cache beside it
// (dist/NAME-ID.cache), so the functions a run needs are not compiled again each time
// (docs/decisions.md, "CLI start-up (cli2)" and "Daemon start-up (start3)"). ID is the bundle's
// content hash, so a cache is only ever read for the bundle it was made from; V8 refuses one of
// another V8 version, other flags or another source length, and the bundle is then compiled as
// without one. Named imports: esbuild's CommonJS output copies a whole module for a default import.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

/**
 * A bundle file's text, as the build writes it (scripts/build-split.ts): Node's CommonJS wrapper
 * around the code, plus `__bella_import`, an `import()` from outside the `vm.Script`, where Node 20
 * gives `import()` no loader without an experimental flag (the build turns each
 * `import("package")` of the bundle into a call of it). Wrapped by the build, not at each start,
 * so the file's text is the script's source as read: no second copy of it is made.
 */
export function wrapBundle(source: string): string {
  return `(function (exports, require, module, __filename, __dirname, __bella_import) {${source}\n})`;
}

/**
 * How a bundle's caches are sealed (daemon/base/node/bundle-seal.ts: the daemon's), or none (the
 * CLI's: V8's bytes as the build wrote them, read without loading node:crypto).
 */
export interface CacheSeal {
  /** What a cache is sealed to, from the source file's bytes. */
  digest(source: Buffer): Buffer;
  /** V8's bytes of a sealed cache file for a source of that digest, or undefined. */
  open(digest: Buffer, file: Buffer): Buffer | undefined;
}

/**
 * One buffer every file of a bundle is read into, in turn: what is read is decoded or handed to
 * V8 before the next read. A buffer per file (sources and caches: 1.2 MB for the daemon) would
 * stay allocated until a full collection, which an idle daemon may not run for a long time.
 * Pages of it never read into are never touched.
 */
let scratch = Buffer.allocUnsafeSlow(0);

/**
 * Frees a buffer's memory at the next young-generation collection instead of the next full one.
 * The scratch buffer lives through start-up, so its object is in the old generation by then, and
 * an idle daemon runs no full collection for a long time: its memory (the pages read into, 0.3 MB)
 * stayed resident. Transferring its bytes to a new, unreferenced ArrayBuffer (young) detaches it.
 */
function release(buffer: Buffer): void {
  // allocUnsafeSlow's buffer is its own ArrayBuffer, never a shared one.
  const bytes = buffer.buffer as ArrayBuffer;
  if (bytes.byteLength > 0) structuredClone(bytes, { transfer: [bytes] });
}

/** The bytes of `file`, valid until the next read (the scratch buffer's). */
function readScratch(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (scratch.length < size) {
      release(scratch);
      scratch = Buffer.allocUnsafeSlow(Math.max(size, 512 * 1024));
    }
    let done = 0;
    while (done < size) {
      const n = readSync(fd, scratch, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return scratch.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/** A file of a bundle that has run, and what {@link LoadedFile.script} can make a cache of. */
export interface LoadedFile {
  script: Script;
  /** Its source's digest, when the bundle's caches are sealed ({@link CacheSeal}). */
  digest: Buffer | undefined;
  /** Where its code cache is (`dist/NAME.cache` beside `dist/NAME.cjs`). */
  cacheFile: string;
  /** Whether a cache was read and V8 took it. */
  cached: boolean;
}

/** A bundle that has run: its exports, and its files run so far (the bundle's, then its chunks'). */
export interface LoadedBundle {
  exports: unknown;
  files: LoadedFile[];
}

/**
 * Runs `dir/NAME.cjs` with its code cache `dir/NAME.cache` when there is one V8 accepts (a
 * missing, unreadable, damaged or foreign one costs only the compile), and each chunk it requires
 * (`./X.cjs`) the same way, once. `importModule` is the entry's own `import()`; `seal`, how the
 * caches are sealed, if they are.
 */
export function runBundle(
  dir: string,
  name: string,
  importModule: (specifier: string) => Promise<unknown>,
  seal?: CacheSeal,
): LoadedBundle {
  const files: LoadedFile[] = [];
  const loaded = new Map<string, { exports: unknown }>();
  const load = (file: string): unknown => {
    const known = loaded.get(file);
    if (known) return known.exports;
    const cacheFile = file.replace(/\.cjs$/, '.cache');
    // Read as bytes and decoded once (readFileSync's own decoding grows a native buffer by
    // doubling and frees it at once, which leaves the allocator holding more memory).
    const source = readScratch(file);
    const digest = seal?.digest(source);
    const text = source.toString();
    let cachedData: Buffer | undefined;
    try {
      const bytes = readScratch(cacheFile);
      cachedData = seal ? seal.open(digest!, bytes) : bytes;
    } catch {
      // No cache (a build that could not make one, or a reader without the right): compiled from source.
    }
    // V8 takes what it needs from the cache here: the scratch buffer is free again after.
    const script = new Script(text, { filename: file, cachedData });
    files.push({ script, digest, cacheFile, cached: cachedData !== undefined && !script.cachedDataRejected });
    const module = { exports: {} as unknown };
    loaded.set(file, module);
    const outside = createRequire(file);
    const require = Object.assign(
      (id: string) => (/^\.\.?\/.+\.cjs$/.test(id) ? load(join(dirname(file), id)) : outside(id)),
      outside,
    );
    (script.runInThisContext() as (...args: unknown[]) => void)(
      module.exports,
      require,
      module,
      file,
      dirname(file),
      importModule,
    );
    return module.exports;
  };
  const exports = load(join(dir, `${name}.cjs`));
  // Chunks loaded on demand later read into a buffer of their own.
  release(scratch);
  scratch = Buffer.allocUnsafeSlow(0);
  return { exports, files };
}
