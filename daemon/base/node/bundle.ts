// How a built entry (dist/cli.cjs, dist/daemon.cjs) runs its bundle (dist/NAME-ID.cjs, CommonJS,
// built by scripts/build-split.ts): compiled in a `vm.Script` with V8's code cache beside it
// (dist/NAME-ID.cache), so the functions a run needs are not compiled again each time
// (docs/decisions.md, "CLI start-up (cli2)" and "Daemon start-up (start3)"). ID is the bundle's
// content hash, so a cache is only ever read for the bundle it was made from; V8 refuses one of
// another V8 version, other flags or another source length, and the bundle is then compiled as
// without one. Named imports: esbuild's CommonJS output copies a whole module for a default import.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

/**
 * The text a bundle is compiled as, by its entry and by the build that makes its code cache (the
 * two must be the same): Node's CommonJS wrapper, plus `__bella_import`, an `import()` from
 * outside the `vm.Script`, where Node 20 gives `import()` no loader without an experimental flag
 * (the build turns each `import("package")` of the bundle into a call of it).
 */
export function wrapBundle(source: string): string {
  return `(function (exports, require, module, __filename, __dirname, __bella_import) {${source}\n})`;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();

/**
 * A code cache as written to disk: the SHA-256 of V8's bytes, then the bytes. V8 checks a cache's
 * version, flags and source length, but in a release build not the bytes themselves: a cache
 * damaged inside makes V8 abort the process, so no cache reaches V8 unchecked.
 */
export function sealCache(data: Buffer): Buffer {
  return Buffer.concat([sha256(data), data]);
}

/** V8's bytes of a cache {@link sealCache} wrote, or undefined when they are not the bytes it wrote. */
export function unsealCache(file: Buffer): Buffer | undefined {
  const data = file.subarray(32);
  return file.length > 32 && sha256(data).equals(file.subarray(0, 32)) ? data : undefined;
}

/** A file of a bundle that has run, and what {@link LoadedFile.script} can make a cache of ({@link sealCache}). */
export interface LoadedFile {
  script: Script;
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
 * (`./X.cjs`) the same way, once. `importModule` is the entry's own `import()`.
 */
export function runBundle(
  dir: string,
  name: string,
  importModule: (specifier: string) => Promise<unknown>,
): LoadedBundle {
  const files: LoadedFile[] = [];
  const loaded = new Map<string, { exports: unknown }>();
  const load = (file: string): unknown => {
    const known = loaded.get(file);
    if (known) return known.exports;
    const cacheFile = file.replace(/\.cjs$/, '.cache');
    let cachedData: Buffer | undefined;
    try {
      cachedData = unsealCache(readFileSync(cacheFile));
    } catch {
      // No cache (a build that could not make one, or a reader without the right): compiled from source.
    }
    const script = new Script(wrapBundle(readFileSync(file, 'utf8')), { filename: file, cachedData });
    files.push({ script, cacheFile, cached: cachedData !== undefined && !script.cachedDataRejected });
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
  return { exports: load(join(dir, `${name}.cjs`)), files };
}
