import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BellaError } from '../../daemon/api';
import { ensureBuilt, distDir } from '../helpers/build';
import { rawRequest, seed, startIn, tempPlace, type DaemonHandle } from '../helpers/daemon';

// Issue 21: an empty daemon loads only what it uses. What it does not (databases, CI logins,
// webhooks, .env imports) is loaded at first use, from chunks and packages outside the daemon's
// static import graph; an operation's input schema is built at its first request.

/** Packages an idle daemon must not load, and the module (chunk or package) that loads each. */
const LAZY = ['pg', 'jose', 'standardwebhooks', 'dotenv', 'node-notifier', '@peculiar/x509', 'reflect-metadata'];

/** The bundle dist/daemon.cjs runs (`daemon-ID.cjs`: daemon/server/start.ts). */
function daemonBundle(): string {
  const name = /daemon-[0-9a-f]{16}/.exec(fs.readFileSync(path.join(distDir, 'daemon.cjs'), 'utf8'))?.[0];
  if (!name) throw new Error('dist/daemon.cjs names no bundle');
  return path.join(distDir, `${name}.cjs`);
}

/**
 * The bare packages a built CommonJS file and the chunks it requires statically require,
 * transitively. What is loaded on demand is required inside a function (`() => require(…)`), or
 * imported (`__bella_import("pg")`).
 */
function staticPackages(entry: string): { packages: Set<string>; files: string[] } {
  const packages = new Set<string>();
  const files: string[] = [];
  const visit = (file: string) => {
    if (files.includes(file)) return;
    files.push(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const [, spec] of text.matchAll(/(?<!=>\s*)\brequire\("([^"]+)"\)/g)) {
      if (spec!.startsWith('./')) visit(path.join(path.dirname(file), spec!));
      else if (!spec!.startsWith('node:')) packages.add(spec!);
    }
  };
  visit(entry);
  return { packages, files };
}

describe('the daemon bundle', () => {
  it('requires none of the lazy packages statically; zod is bundled; the CI login is a chunk of its own', () => {
    ensureBuilt();
    const { packages, files } = staticPackages(daemonBundle());
    expect(files.length).toBeGreaterThan(1);
    for (const name of LAZY) expect(packages).not.toContain(name);
    expect(packages).not.toContain('zod');
    const code = files.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
    expect(code).toMatch(/__bella_import\("pg"\)/);
    const login = /=>\s*require\("\.\/(daemon-login-[A-Z0-9]+\.cjs)"\)/.exec(code)?.[1];
    expect(login).toBeDefined();
    expect(files.map((f) => path.basename(f))).not.toContain(login);
    expect(fs.readFileSync(path.join(distDir, login!), 'utf8')).toMatch(/require\("jose"\)/);
  });
});

describe('an empty daemon', () => {
  const place = tempPlace('bella-idle');
  const loads = path.join(place.root, 'loads.txt');
  const preload = path.join(place.root, 'record-loads.mjs');
  let daemon: DaemonHandle | undefined;
  afterAll(async () => {
    await daemon?.stop();
    place.cleanup();
  });

  /** What the daemon process has loaded so far: ESM URLs, CommonJS files and the bundle's files (vm:). */
  const loaded = () => fs.readFileSync(loads, 'utf8');
  const holds = (text: string, name: string) =>
    text.includes(`/node_modules/${name}/`) || text.split('\n').includes(`cjs:${name}`);

  it('checks an operation’s first request as strictly as any; loads dotenv, standardwebhooks, the CI login and jose only once used', async () => {
    ensureBuilt();
    // Records every module the daemon resolves (ESM hooks) and every require (createRequire).
    const hooks = `import fs from 'node:fs';
export async function resolve(specifier, context, next) {
  const out = await next(specifier, context);
  fs.appendFileSync(${JSON.stringify(loads)}, out.url + '\\n');
  return out;
}`;
    fs.writeFileSync(
      preload,
      `import fs from 'node:fs';
import Module, { register } from 'node:module';
import vm from 'node:vm';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));
const Script = vm.Script;
vm.Script = function (source, options) {
  fs.appendFileSync(${JSON.stringify(loads)}, 'vm:' + options.filename + '\\n');
  return new Script(source, options);
};
const load = Module._load;
Module._load = function (request, ...rest) {
  const out = load.call(this, request, ...rest);
  fs.appendFileSync(${JSON.stringify(loads)}, 'cjs:' + request + '\\n' + (Module._resolveFilename?.(request, rest[0]) ?? '') + '\\n');
  return out;
};
`,
    );
    fs.writeFileSync(loads, '');
    daemon = await startIn(place, { nodeArgs: ['--import', preload] });
    await daemon.client.call('status', {});

    const idle = loaded();
    expect(idle).toMatch(/^vm:.*\/daemon-[0-9a-f]{16}\.cjs$/m);
    expect(idle).toMatch(/^vm:.*\/daemon-chunk-[A-Z0-9]+\.cjs$/m);
    for (const name of LAZY) expect(holds(idle, name), name).toBe(false);
    expect(idle).not.toMatch(/\/daemon-login-[A-Z0-9]+\.cjs$/m);

    // An operation's input schema is built at its first request: that request is checked as
    // strictly as any later one (sent raw, so only the daemon checks it), and nothing is made.
    const post = async (body: object) => {
      const headers = { 'content-type': 'application/json' };
      const answer = await rawRequest(daemon!.socket, {
        method: 'POST',
        path: '/v1/projects',
        headers,
        body: JSON.stringify(body),
      });
      return { status: answer.status, body: JSON.parse(answer.body) as unknown };
    };
    for (let i = 0; i < 2; i++) {
      const bad = await post({ slug: 'Not A Slug', name: 'web' });
      expect(bad).toMatchObject({ status: 400, body: { error: { code: 'invalid_argument' } } });
      expect(JSON.stringify(bad.body)).toContain('slug');
    }
    expect(await post({ slug: 'web', name: 'web' })).toMatchObject({ status: 200, body: { project: { slug: 'web' } } });
    expect((await daemon.client.call('listProjects', {})).projects.map((p) => p.slug)).toEqual(['web']);

    // A .env import: dotenv parses it.
    const { project, environment } = await seed(daemon.client);
    expect(holds(loaded(), 'dotenv')).toBe(true);
    const { secrets } = await daemon.client.call('listSecrets', { project, environment });
    expect(secrets.map((s) => s.key).sort()).toEqual(['API_KEY', 'DB_URL', 'STRIPE_KEY']);

    // A webhook with the owner's own secret: the library checks it.
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const added = await daemon.client.call('addChannel', {
      kind: 'webhook',
      url: 'http://127.0.0.1:9/hook',
      name: 'ops',
      secret,
      allowPrivate: true,
      insecureHttp: true,
      anyHost: true,
    });
    expect(added.channel.name).toBe('ops');
    expect(holds(loaded(), 'standardwebhooks')).toBe(true);

    // A CI login: the service and jose load, and a JWT that is none is refused as before.
    const refused = await daemon.client.call('ciLogin', { idToken: 'not-a-jwt' }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(BellaError);
    expect((refused as BellaError).message).toContain('not a JWT');
    expect(loaded()).toMatch(/^vm:.*\/daemon-login-[A-Z0-9]+\.cjs$/m);
    expect(holds(loaded(), 'jose')).toBe(true);
    // Nothing asked for a database: pg is still not loaded.
    expect(holds(loaded(), 'pg')).toBe(false);
  }, 60_000);
});
