import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonSeal } from '../../daemon/base/node/bundle-seal';
import { distDir, ensureBuilt } from '../helpers/build';
import { readLog, sleep, startIn, tempPlace, type DaemonPlace } from '../helpers/daemon';

// The daemon's entry (dist/daemon.cjs, daemon/server/start.ts) runs its CommonJS bundle and the
// chunks it needs with V8's code cache; the build makes the cache, and a daemon that finds none
// V8 takes writes it once it serves (docs/decisions.md, "Daemon start-up (start3)").

/** The bundle dist/daemon.cjs (in `dir`) runs: `daemon-ID`. */
function bundleName(dir = distDir): string {
  const name = /daemon-[0-9a-f]{16}/.exec(fs.readFileSync(path.join(dir, 'daemon.cjs'), 'utf8'))?.[0];
  if (!name) throw new Error(`${dir}/daemon.cjs names no bundle`);
  return name;
}

/** Whether `cache` is whole, sealed to `file`, and this Node takes it for `file`'s text (daemon/base/node/bundle-seal.ts). */
function accepted(file: string, cache: string): boolean {
  const data = daemonSeal.open(daemonSeal.digest(fs.readFileSync(file)), fs.readFileSync(cache));
  if (!data) return false;
  const raw = path.join(os.tmpdir(), `bella-start3-${process.pid}-${path.basename(cache)}`);
  fs.writeFileSync(raw, data);
  const check = `
    const fs = require('node:fs'), vm = require('node:vm');
    const [file, cache] = process.argv.slice(1);
    const script = new vm.Script(fs.readFileSync(file, 'utf8'), {
      filename: file,
      cachedData: fs.readFileSync(cache),
    });
    process.stdout.write(String(!script.cachedDataRejected));
  `;
  try {
    return execFileSync(process.execPath, ['-e', check, file, raw], { encoding: 'utf8' }) === 'true';
  } finally {
    fs.rmSync(raw);
  }
}

/** The caches the build made: one per file a daemon runs until it serves (the bundle and its static chunk). */
const builtCaches = () => fs.readdirSync(distDir).filter((n) => /^daemon-.*\.cache$/.test(n));

describe('the daemon and its code cache', { timeout: 120_000 }, () => {
  let place: DaemonPlace;
  let copy: string;

  /** A fresh copy of the built daemon (no node_modules: an idle daemon needs no package). */
  function copyDist(): void {
    fs.rmSync(copy, { recursive: true, force: true });
    fs.mkdirSync(copy);
    for (const name of fs.readdirSync(distDir)) {
      if (/^daemon/.test(name) || name === 'audit-verify.js' || name === 'bella.mjs') {
        fs.copyFileSync(path.join(distDir, name), path.join(copy, name));
      }
    }
  }

  /** Starts the copy's daemon on a fresh home, makes and lists a project, and stops it. */
  async function serves(label: string): Promise<string> {
    const run = tempPlace(`bella-start3-${label}`);
    try {
      const daemon = await startIn(run, { script: path.join(copy, 'daemon.cjs') });
      try {
        await daemon.client.call('createProject', { slug: 'web', name: 'web' });
        expect((await daemon.client.call('listProjects', {})).projects.map((p) => p.slug)).toEqual(['web']);
        await cachesWritten();
      } finally {
        await daemon.stop();
      }
      return readLog(run.logFile);
    } finally {
      run.cleanup();
    }
  }

  /** Waits until the copy holds every cache the build made, each whole and taken by this Node, and no temp file. */
  async function cachesWritten(): Promise<void> {
    const wanted = builtCaches();
    const ok = () => {
      const names = fs.readdirSync(copy);
      if (names.some((n) => n.endsWith('.tmp'))) return false;
      return wanted.every(
        (c) => names.includes(c) && accepted(path.join(copy, c.replace(/\.cache$/, '.cjs')), path.join(copy, c)),
      );
    };
    for (let i = 0; i < 100 && !ok(); i++) await sleep(100);
    expect(ok()).toBe(true);
  }

  beforeAll(() => {
    ensureBuilt();
    place = tempPlace('bella-start3');
    copy = path.join(place.root, 'dist');
  });
  afterAll(() => place?.cleanup());

  it('the build made a cache for the bundle and for the chunk it requires at start, and this Node takes each', () => {
    const caches = builtCaches();
    expect(caches).toContain(`${bundleName()}.cache`);
    expect(caches.some((c) => /^daemon-chunk-[A-Z0-9]+\.cache$/.test(c))).toBe(true);
    for (const cache of caches) {
      expect(accepted(path.join(distDir, cache.replace(/\.cache$/, '.cjs')), path.join(distDir, cache)), cache).toBe(
        true,
      );
    }
  });

  it("starts without Node's ES module loader (which reads files through the thread pool)", async () => {
    const preload = path.join(place.root, 'modules.cjs');
    const seen = path.join(place.root, 'modules.txt');
    fs.writeFileSync(
      preload,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(seen)}, process.moduleLoadList.join('\\n')));`,
    );
    const run = tempPlace('bella-start3-esm');
    try {
      const daemon = await startIn(run, { nodeArgs: ['-r', preload] });
      await daemon.client.call('status', {});
      await daemon.stop();
    } finally {
      run.cleanup();
    }
    const modules = fs.readFileSync(seen, 'utf8').split('\n');
    expect(modules).toContain('NativeModule vm');
    expect(modules).not.toContain('NativeModule internal/modules/esm/module_job');
  });

  it('a damaged, cut-short, stale or missing cache costs only the compile: the daemon serves, and writes the cache again whole', async () => {
    const bundle = bundleName();
    const cache = path.join(copy, `${bundle}.cache`);
    const size = fs.statSync(path.join(distDir, `${bundle}.cache`)).size;
    const chunkCache = builtCaches().find((c) => c.startsWith('daemon-chunk-'))!;
    const variants: Array<[string, () => void]> = [
      // Same length, other bytes.
      ['damaged', () => fs.writeFileSync(cache, Buffer.alloc(size, 0x5a))],
      // Bytes changed inside a whole cache: V8 itself would abort on these (it checks only a cache's header).
      [
        'damaged inside',
        () => {
          const bytes = fs.readFileSync(path.join(distDir, `${bundle}.cache`));
          for (let i = size >> 1; i < (size >> 1) + 64; i++) bytes[i]! ^= 0xff;
          fs.writeFileSync(cache, bytes);
        },
      ],
      [
        'cut-short',
        () => fs.writeFileSync(cache, fs.readFileSync(path.join(distDir, `${bundle}.cache`)).subarray(0, size >> 1)),
      ],
      // A cache V8 made for another file (the chunk's).
      ['stale', () => fs.copyFileSync(path.join(distDir, chunkCache), cache)],
      [
        'missing',
        () => {
          for (const c of builtCaches()) fs.rmSync(path.join(copy, c));
        },
      ],
    ];
    for (const [label, spoil] of variants) {
      copyDist();
      spoil();
      await serves(label);
    }
  });

  it('the cache of another source of the same length (a bundle edited in place) is refused: the edited code runs', async () => {
    copyDist();
    const bundle = path.join(copy, `${bundleName()}.cjs`);
    const text = fs.readFileSync(bundle, 'utf8');
    const line = '}) serving ${';
    expect(text).toContain(line);
    // V8 alone would take the cache (it checks only the source's length) and run the old code.
    fs.writeFileSync(bundle, text.replace(line, line.toUpperCase()));
    const log = await serves('edited');
    expect(log).toContain(') SERVING /');
    expect(log).not.toContain(') serving /');
  });

  it('two daemons starting at once without a cache: each file is whole, and no temp file is left', async () => {
    copyDist();
    for (const c of builtCaches()) fs.rmSync(path.join(copy, c));
    // Both are waited for: a failure of one must not leave the other's daemon running.
    const [one, two] = await Promise.allSettled([serves('one'), serves('two')]);
    for (const outcome of [one, two]) if (outcome.status === 'rejected') throw outcome.reason;
  });

  it('a cache that can be neither read nor written (a directory in its place): the daemon serves without it, leaving nothing', async () => {
    copyDist();
    for (const c of builtCaches()) fs.rmSync(path.join(copy, c));
    // The chunk's: the daemon writes it before the bundle's (daemon/server/start.ts).
    const chunkCache = path.join(
      copy,
      builtCaches().find((c) => c.startsWith('daemon-chunk-'))!,
    );
    fs.mkdirSync(path.join(chunkCache, 'x'), { recursive: true });
    const bundleCache = path.join(copy, `${bundleName()}.cache`);
    const run = tempPlace('bella-start3-unwritable');
    try {
      const daemon = await startIn(run, { script: path.join(copy, 'daemon.cjs') });
      try {
        await daemon.client.call('createProject', { slug: 'web', name: 'web' });
        for (let i = 0; i < 100 && !fs.existsSync(bundleCache); i++) await sleep(100);
        expect(fs.existsSync(bundleCache)).toBe(true);
        expect((await daemon.client.call('listProjects', {})).projects.map((p) => p.slug)).toEqual(['web']);
      } finally {
        await daemon.stop();
      }
    } finally {
      run.cleanup();
    }
    expect(fs.statSync(chunkCache).isDirectory()).toBe(true);
    expect(fs.readdirSync(copy).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
