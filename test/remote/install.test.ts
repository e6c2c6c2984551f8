import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonClient } from '../../daemon/client';
import { ensureBuilt, cliBundle } from '../helpers/build';
import { cliPath, waitFor } from '../helpers/cli';
import { daemonScript, readLog } from '../helpers/daemon';
import { createNetnsPair, type Netns } from '../helpers/netns';

/**
 * The one-line install (issue 18, item 4), through the real thing: the daemon and its listener in
 * network namespace A; on B, a holder machine where bella was never installed (an empty directory,
 * PATH=/usr/bin:/bin, no NODE_PATH, no node_modules anywhere above it), the hand-over lines the
 * owner's `bella leases issue` printed are pasted into sh: curl fetches the CLI file pinned to the
 * listener's public key, and `node bella.mjs run` prints the lease's secret.
 */
describe('dist/bella.mjs', () => {
  it('imports nothing but Node built-ins: every package and lazily loaded module is inside the file', () => {
    ensureBuilt();
    const text = fs.readFileSync(cliBundle, 'utf8');
    const specifiers = new Set<string>();
    for (const re of [/\bfrom\s*"([^"]+)"/g, /\bimport\(\s*"([^"]+)"\s*\)/g, /\brequire\(\s*"([^"]+)"\s*\)/g]) {
      for (const m of text.matchAll(re)) if (/^[@a-z0-9][\w./:@-]*$/.test(m[1]!)) specifiers.add(m[1]!);
    }
    expect(specifiers.size).toBeGreaterThan(3);
    expect([...specifiers].filter((s) => !builtinModules.includes(s.replace(/^node:/, '')))).toEqual([]);
    // The split build's chunks are not referenced: one file is the whole CLI.
    expect(text).not.toMatch(/chunks\//);
  });
});

const netns = createNetnsPair();
if (!netns.ok) console.warn(`install tests skipped: ${netns.reason}`);
const PORT = 7443;

describe.skipIf(!netns.ok)(
  `the CLI installed from the listener${netns.ok ? '' : ` (skipped: ${netns.reason})`}`,
  () => {
    const { a, b } = netns.ok ? netns.pair : ({} as { a: Netns; b: Netns });
    let root: string;
    let home: string;
    let socket: string;
    let holderDir: string;
    let daemon: ChildProcess;
    let owner: DaemonClient;
    const server = () => `https://${a.address}:${PORT}`;
    /** B's shell: nothing of the repository or the owner reachable (no bella on PATH, no NODE_PATH). */
    const onB = (script: string) =>
      b.run('sh', ['-ec', script], {
        env: { PATH: '/usr/bin:/bin', HOME: holderDir, LANG: 'C' },
        cwd: holderDir,
        timeoutMs: 60_000,
      });
    const ownerCli = (args: string[]) =>
      a.run(process.execPath, [cliPath, ...args], {
        env: { ...process.env, BELLA_HOME: home, BELLA_SOCKET: socket },
        cwd: root,
      });

    beforeAll(async () => {
      ensureBuilt();
      root = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-install-'));
      home = path.join(root, 'owner');
      socket = path.join(root, 's.sock');
      holderDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-holder-'));
      const log = path.join(root, 'daemon.log');
      daemon = a.spawn(process.execPath, [daemonScript, '--home', home, '--socket', socket], {
        stdio: ['ignore', fs.openSync(log, 'a'), fs.openSync(log, 'a')],
        env: { ...process.env, BELLA_HOME: home },
      });
      owner = new DaemonClient({ socketPath: socket, timeoutMs: 30_000 });
      await waitFor(() => owner.ping().catch(() => false), `the daemon in ${a.name}:\n${readLog(log)}`, 20_000);
      await owner.call('createProject', { slug: 'app', name: 'App' });
      await owner.call('createEnvironment', { project: 'app', slug: 'prod', name: 'prod' });
      await owner.call('importSecrets', { project: 'app', environment: 'prod', dotenv: 'KEY=k-123\nOTHER=o-456\n' });
      await owner.call('enableListener', { address: `${a.address}:${PORT}` });
    }, 60_000);

    afterAll(async () => {
      owner?.close();
      if (daemon && daemon.exitCode === null) {
        daemon.kill('SIGTERM');
        await new Promise((r) => daemon.once('exit', r));
      }
      if (netns.ok) netns.pair.cleanup();
      for (const dir of [root, holderDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('shows the pinned key and the CLI URL in `listener status`, matching the served certificate', async () => {
      const status = await ownerCli(['listener', 'status', '--json']);
      expect(status.code, status.stderr).toBe(0);
      const { listener } = JSON.parse(status.stdout) as { listener: { cliUrl: string; pinnedPublicKey: string } };
      expect(listener.cliUrl).toBe(`${server()}/v1/cli/bella.mjs`);
      const cert = new crypto.X509Certificate(fs.readFileSync(path.join(home, 'listener', 'cert.pem')));
      const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
      expect(listener.pinnedPublicKey).toBe(`sha256//${crypto.createHash('sha256').update(spki).digest('base64')}`);
      const text = await ownerCli(['listener', 'status']);
      expect(text.stdout).toContain(
        `curl -fsS --pinnedpubkey '${listener.pinnedPublicKey}' -k -o bella.mjs ${server()}/v1/cli/bella.mjs`,
      );
    }, 60_000);

    it('a wrong pin makes curl refuse the listener, and nothing is saved', async () => {
      const wrong = `sha256//${crypto.createHash('sha256').update('another key').digest('base64')}`;
      const res = await onB(`curl -fsS --pinnedpubkey '${wrong}' -k -o bella.mjs ${server()}/v1/cli/bella.mjs`);
      // 90: CURLE_SSL_PINNEDPUBKEYNOTMATCH.
      expect([res.code, res.stderr]).toEqual([90, expect.stringMatching(/public key/i)]);
      expect(fs.existsSync(path.join(holderDir, 'bella.mjs'))).toBe(false);
    }, 60_000);

    it('the pasted hand-over installs the CLI with curl and runs a command with exactly the scoped key', async () => {
      // Nothing of bella or its packages can be found from B's directory.
      for (let dir = holderDir; ; dir = path.dirname(dir)) {
        expect(fs.existsSync(path.join(dir, 'node_modules')), dir).toBe(false);
        if (path.dirname(dir) === dir) break;
      }
      expect((await onB('command -v bella || echo none')).stdout.trim()).toBe('none');

      const issued = await ownerCli(['leases', 'issue', '-p', 'app', '-e', 'prod', '--scope', 'KEY', '--reason', 'x']);
      expect(issued.code, issued.stderr).toBe(0);
      const lines = issued.stderr
        .split('\n')
        .filter((l) => l.startsWith('  '))
        .map((l) => l.trim());
      expect(lines[0]).toMatch(/^curl -fsS --pinnedpubkey 'sha256\/\/[A-Za-z0-9+/]{43}=' -k -o bella\.mjs https:\/\//);
      expect(lines.at(-1)).toBe('node bella.mjs run -p app -e prod -- your-command');
      const script = [
        ...lines.slice(0, -1),
        'node bella.mjs --version',
        `${lines.at(-1)!.replace('your-command', `sh -c 'echo "KEY=$KEY OTHER=\${OTHER-unset}"'`)}`,
      ].join('\n');
      const res = await onB(script);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toMatch(/^bella \d+\.\d+\.\d+\nKEY=k-123 OTHER=unset\n$/);
      // The other token-plane commands run from the one file too (yaml and the answer schemas are
      // loaded lazily by the split CLI: here they must be inside the file).
      const exports = lines.filter((l) => l.startsWith('export ')).join('\n');
      const more = await onB(
        `${exports}\nnode bella.mjs pull -o yaml\nnode bella.mjs secrets get KEY\nnode bella.mjs token lookup --json`,
      );
      expect(more.code, more.stderr).toBe(0);
      expect(more.stdout).toMatch(/^KEY: k-123\nk-123\n\{/);
      expect(JSON.parse(more.stdout.slice(more.stdout.indexOf('{')))).toMatchObject({ lease: { scope: ['KEY'] } });
      // What B saved is byte for byte the bundle the daemon serves.
      const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
      expect(sha(path.join(holderDir, 'bella.mjs'))).toBe(sha(cliBundle));
    }, 120_000);

    it('serves the file with its type, length and SHA-256 with no token, on the listener and the socket', async () => {
      const pin = (await owner.call('getListener', {})).listener.pinnedPublicKey!;
      const headers = await onB(`curl -fsS --pinnedpubkey '${pin}' -k -o /dev/null -D - ${server()}/v1/cli/bella.mjs`);
      expect(headers.code, headers.stderr).toBe(0);
      const expected = crypto.createHash('sha256').update(fs.readFileSync(cliBundle)).digest('hex');
      const h = headers.stdout.toLowerCase();
      expect(h).toMatch(/^http\/1\.1 200/);
      expect(h).toContain('content-type: text/javascript');
      expect(h).toContain(`content-length: ${fs.statSync(cliBundle).size}\r\n`);
      expect(h).toContain(`x-bella-sha256: ${expected}\r\n`);
      expect(h).toContain(`etag: "sha256-${expected}"\r\n`);
      const onSocket = await a.run('curl', [
        '-fsS',
        '--unix-socket',
        socket,
        '-o',
        '/dev/null',
        '-D',
        '-',
        'http://x/v1/cli/bella.mjs',
      ]);
      expect(onSocket.code, onSocket.stderr).toBe(0);
      expect(onSocket.stdout.toLowerCase()).toContain(`x-bella-sha256: ${expected}\r\n`);
    }, 60_000);
  },
);
