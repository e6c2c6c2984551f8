import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BellaSandbox, cliPath, collect, repoRoot } from '../helpers/cli';

// The installed `bella` (bin/bella.cjs) starts the CommonJS build with V8's code cache
// (daemon/cli/start.ts, daemon/base/node/bundle.ts, scripts/build-cli.ts; docs/decisions.md, "CLI start-up (cli2)").

interface Listed {
  leases: Array<{ id: string }>;
}

const dist = path.dirname(cliPath);

/** The bundle dist/cli.cjs runs (`cli-ID`), read from the entry as the build wrote it. */
function bundleName(): string {
  const name = /cli-[0-9a-f]{16}/.exec(fs.readFileSync(cliPath, 'utf8'))?.[0];
  if (!name) throw new Error(`${cliPath} names no bundle`);
  return name;
}

describe('the installed bella and its start-up', { timeout: 120_000 }, () => {
  let b: BellaSandbox;
  let ids: string[];

  /** Runs `node FILE ARGS…` (with node's own OPTIONS first) against the sandbox's daemon. */
  async function node(file: string, args: string[], options: string[] = []) {
    const child = spawn(process.execPath, [...options, file, ...args], { env: b.env(), cwd: b.workDir });
    const res = await collect(child);
    if (res.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${res.code}: ${res.stderr}`);
    return res.stdout;
  }
  const listedIds = (out: string) => (JSON.parse(out) as Listed).leases.map((l) => l.id).sort();

  beforeAll(async () => {
    b = new BellaSandbox();
    await b.ok(['projects', 'create', '--name', 'Acme', '--slug', 'acme']);
    await b.ok(['environments', 'create', '-p', 'acme', '--name', 'prod', '--slug', 'prod']);
    await b.ok(['secrets', 'set', 'API_KEY', 'k', '-p', 'acme', '-e', 'prod']);
    for (let i = 0; i < 2; i++) {
      await b.ok(['leases', 'issue', '-p', 'acme', '-e', 'prod', '--scope', 'API_KEY', '--reason', `start ${i}`]);
    }
    ids = listedIds(await b.ok(['leases', 'list', '--json']));
    expect(ids).toHaveLength(2);
  }, 120_000);
  afterAll(() => b?.stop(), 60_000);

  it('package.json installs bin/bella.cjs as `bella`; it and bin/bella.mjs list what the built CLI lists', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(pkg.bin).toEqual({ bella: 'bin/bella.cjs' });
    for (const entry of ['bella.cjs', 'bella.mjs']) {
      expect(listedIds(await node(path.join(repoRoot, 'bin', entry), ['leases', 'list', '--json']))).toEqual(ids);
    }
  });

  it("runs without Node's ES module loader (which reads files through the thread pool)", async () => {
    const preload = path.join(b.workDir, 'modules.cjs');
    const seen = path.join(b.workDir, 'modules.txt');
    fs.writeFileSync(
      preload,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(seen)}, process.moduleLoadList.join('\\n')));`,
    );
    const loaded = async (file: string) => {
      await node(file, ['leases', 'list', '--json'], ['-r', preload]);
      return fs.readFileSync(seen, 'utf8').split('\n');
    };
    // Node loads this module to run any ES module (bin/bella.mjs is one), never for bin/bella.cjs.
    const esm = 'NativeModule internal/modules/esm/module_job';
    expect(await loaded(path.join(repoRoot, 'bin', 'bella.mjs'))).toContain(esm);
    expect(await loaded(path.join(repoRoot, 'bin', 'bella.cjs'))).not.toContain(esm);
  });

  it("the build's code cache is the bundle's, and this Node accepts it", () => {
    const name = bundleName();
    // V8 takes the cache for the bundle's text, as dist/cli.cjs compiles it.
    const check = `
      const fs = require('node:fs'), vm = require('node:vm');
      const [file, cache] = process.argv.slice(1);
      const script = new vm.Script(fs.readFileSync(file, 'utf8'), {
        filename: file,
        cachedData: fs.readFileSync(cache),
      });
      process.stdout.write(String(script.cachedDataRejected));
    `;
    const out = execFileSync(
      process.execPath,
      ['-e', check, path.join(dist, `${name}.cjs`), path.join(dist, `${name}.cache`)],
      {
        encoding: 'utf8',
      },
    );
    expect(out).toBe('false');
  });

  it('a damaged or missing code cache costs only the compile: the CLI answers the same', async () => {
    const name = bundleName();
    const copy = path.join(b.workDir, 'dist');
    fs.mkdirSync(copy);
    for (const f of ['cli.cjs', `${name}.cjs`, 'chunks']) {
      fs.cpSync(path.join(dist, f), path.join(copy, f), { recursive: true });
    }
    const cache = path.join(copy, `${name}.cache`);
    const size = fs.statSync(path.join(dist, `${name}.cache`)).size;
    // Same length, other bytes; then cut short; then none at all.
    fs.writeFileSync(cache, Buffer.alloc(size, 0x5a));
    expect(listedIds(await node(path.join(copy, 'cli.cjs'), ['leases', 'list', '--json']))).toEqual(ids);
    fs.writeFileSync(cache, fs.readFileSync(path.join(dist, `${name}.cache`)).subarray(0, size >> 1));
    expect(listedIds(await node(path.join(copy, 'cli.cjs'), ['leases', 'list', '--json']))).toEqual(ids);
    fs.rmSync(cache);
    expect(listedIds(await node(path.join(copy, 'cli.cjs'), ['leases', 'list', '--json']))).toEqual(ids);
  });
});
