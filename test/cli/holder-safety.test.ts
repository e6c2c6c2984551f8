import type http from 'node:http';
import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSelfSigned, type CertificatePair } from '../../daemon/services/listener/certificate';
import { BellaSandbox, oneErrorLine, waitFor, type CliResult } from '../helpers/cli';
import { createStubServer } from '../helpers/stub-server';
import { fillDisk, mountTmpfs } from '../reliability/disk';
import { createLayout, issueToken } from './fixture';

// Issue 16, items 1–6 and the holder's `bella doctor` (item 10): the holder's machine treats a
// server's answers as untrusted input. The hostile server is a real TLS server of this test's own
// on 127.0.0.1; the owner's side is a real daemon; bella is the built CLI as a child process.

const LEASE = 'hostilelease0001';
const HOSTILE_TOKEN = `bax-${LEASE}-${'S'.repeat(43)}`;

/** What the hostile server answers: the lease its lookup reports, the secrets it sends, or a drip. */
interface Behaviour {
  scope: string[];
  secrets: Record<string, string>;
  /** Answer 200 at once, then one byte a second, never ending. */
  drip?: boolean;
}

function lookupAnswer(scope: string[]) {
  const now = Date.now();
  return {
    lease: {
      id: LEASE,
      project: 'app',
      environment: 'prod',
      scope,
      issuedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + 3_600_000).toISOString(),
      status: 'active',
      uses: 0,
      lastUsedAt: null,
    },
  };
}

describe('issue 16: the holder treats the server as untrusted', { timeout: 240_000 }, () => {
  let b: BellaSandbox;
  let pair: CertificatePair;
  let server: http.Server;
  let serverUrl: string;
  let behaviour: Behaviour = { scope: ['API_KEY'], secrets: { API_KEY: 'k-1' } };
  const sockets = new Set<net.Socket>();
  const drips = new Set<NodeJS.Timeout>();

  beforeAll(async () => {
    b = new BellaSandbox();
    await createLayout(b, { app: { prod: { API_KEY: 'real-key', BASH_ENV: '/tmp/evil-rc' } } });
    pair = await generateSelfSigned({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    server = createStubServer(
      pair,
      () => {},
      (req, res) => {
        res.setHeader('content-type', 'application/json');
        if (behaviour.drip) {
          res.writeHead(200);
          res.write('{');
          const timer = setInterval(() => res.write(' '), 1000);
          drips.add(timer);
          res.on('close', () => {
            clearInterval(timer);
            drips.delete(timer);
          });
          return;
        }
        if (req.url?.startsWith('/v1/token')) return res.end(JSON.stringify(lookupAnswer(behaviour.scope)));
        res.end(
          JSON.stringify({
            project: 'app',
            environment: 'prod',
            leaseId: LEASE,
            expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
            secrets: behaviour.secrets,
          }),
        );
      },
    );
    server.on('connection', (s: net.Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    serverUrl = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  }, 120_000);

  afterAll(async () => {
    for (const t of drips) clearInterval(t);
    for (const s of sockets) s.destroy();
    if (server) await new Promise((r) => server.close(r));
    await b?.stop();
  }, 60_000);

  /** Environment of a holder on another machine: no data directory of its own, the hostile server pinned. */
  const holderEnv = (extra: Record<string, string> = {}) => ({
    BELLA_HOME: path.join(b.workDir, 'no-home'),
    BELLA_SOCKET: path.join(b.workDir, 'no-home', 'bella.sock'),
    BELLA_SERVER: serverUrl,
    BELLA_SERVER_FINGERPRINT: pair.fingerprint,
    BELLA_TOKEN: HOSTILE_TOKEN,
    ...extra,
  });

  /** A fresh scratch directory under the sandbox. */
  const scratch = (name: string) => fs.mkdtempSync(path.join(b.workDir, `${name}-`));

  describe('1. key names and scope', () => {
    it('keys that are shell code: pull -o shell and dotenv print nothing, and eval / . run nothing', async () => {
      const dir = scratch('keys');
      const pwned = path.join(dir, 'pwned');
      behaviour = {
        scope: ['*'],
        secrets: { API_KEY: 'k-1', [`X=1;touch ${pwned}-semi;Y`]: 'v', [`A$(touch ${pwned}-subst)B`]: 'v' },
      };
      for (const output of ['shell', 'dotenv']) {
        const res = await b.run(['pull', '-o', output], { env: holderEnv(), cwd: dir });
        expect(res.code, res.stderr).toBe(1);
        const line = oneErrorLine(res);
        expect(line).toContain(`the bella server at ${serverUrl}`);
        expect(line).toMatch(/not a key name/);
        expect(res.stdout).toBe('');
      }
      // What a user would run: the output goes to a shell.
      const evalRun = await b.shell('eval "$(bella pull -o shell)"; set -a; bella pull > app.env; . ./app.env', {
        env: holderEnv(),
        cwd: dir,
      });
      expect(evalRun.stderr).toContain(serverUrl);
      expect(fs.readdirSync(dir).filter((f) => f.startsWith('pwned'))).toEqual([]);
    });

    it('run: keys outside the lease scope (LD_PRELOAD, NODE_OPTIONS, BASH_ENV) refuse the answer; the command never starts', async () => {
      const dir = scratch('scope');
      behaviour = {
        scope: ['API_KEY'],
        secrets: { API_KEY: 'k-1', LD_PRELOAD: '/nonexistent.so', NODE_OPTIONS: '--inspect', BASH_ENV: '/tmp/x' },
      };
      const res = await b.run(['run', '--', 'sh', '-c', 'env > ran.txt'], { env: holderEnv(), cwd: dir });
      expect(res.code, res.stderr).toBe(1);
      const line = oneErrorLine(res);
      expect(line).toContain(`the bella server at ${serverUrl}`);
      expect(line).toMatch(/outside the lease's scope \(API_KEY\)/);
      expect(fs.existsSync(path.join(dir, 'ran.txt'))).toBe(false);
    });

    it('an answer for another lease, or not shaped like a bella answer, is refused too', async () => {
      behaviour = { scope: ['API_KEY'], secrets: { API_KEY: 'k-1' } };
      const other = await b.run(['pull', '-o', 'json'], {
        env: holderEnv({ BELLA_TOKEN: `bax-otherlease000001-${'S'.repeat(43)}` }),
      });
      expect(other.code).toBe(1);
      expect(oneErrorLine(other)).toMatch(/not this token's lease otherlease000001/);
      behaviour = { scope: ['API_KEY'], secrets: { API_KEY: 42 as unknown as string } };
      const shape = await b.run(['pull', '-o', 'json', '--json'], { env: holderEnv() });
      expect(shape.code).toBe(1);
      expect(JSON.parse(shape.stdout).error.message).toContain(serverUrl);
    });
  });

  describe('2. loader variables need --allow-env', () => {
    it('from a server: in scope, yet refused until named with --allow-env', async () => {
      behaviour = { scope: ['*'], secrets: { API_KEY: 'k-1', NODE_OPTIONS: '--no-warnings' } };
      const script = 'printf %s "$NODE_OPTIONS"';
      const refused = await b.run(['run', '--', 'sh', '-c', script], { env: holderEnv() });
      expect(refused.code).toBe(1);
      expect(oneErrorLine(refused)).toMatch(/NODE_OPTIONS .*--allow-env NODE_OPTIONS/);
      const allowed = await b.run(['run', '--allow-env', 'NODE_OPTIONS', '--', 'sh', '-c', script], {
        env: holderEnv(),
      });
      expect(allowed.code, allowed.stderr).toBe(0);
      expect(allowed.stdout).toBe('--no-warnings');
    });

    it("from the owner's own store: run, inject and pull -o shell refuse BASH_ENV unless allowed", async () => {
      const dir = scratch('loader');
      fs.writeFileSync(path.join(dir, 'tpl'), 'rc={{ bella:BASH_ENV }}\n');
      const cases = [
        ['run', '-p', 'app', '-e', 'prod', '--', 'sh', '-c', 'printf %s "$BASH_ENV"'],
        ['inject', '-p', 'app', '-e', 'prod', '-i', 'tpl'],
        ['pull', '-p', 'app', '-e', 'prod', '-o', 'shell'],
      ];
      for (const argv of cases) {
        const refused = await b.run(argv, { cwd: dir });
        expect([argv[0], refused.code]).toEqual([argv[0], 1]);
        expect(oneErrorLine(refused)).toMatch(/BASH_ENV .*pass --allow-env BASH_ENV/);
        const allowed = await b.run([...argv.slice(0, 5), '--allow-env', 'BASH_ENV', ...argv.slice(5)], { cwd: dir });
        expect([argv[0], allowed.code, allowed.stderr]).toEqual([argv[0], 0, expect.any(String)]);
        expect(allowed.stdout).toContain('/tmp/evil-rc');
      }
    });
  });

  describe('3. an overall deadline', () => {
    /** Runs bella against the dripping server; kills it after a bounded wait (the old build never ends). */
    const dripRun = (args: string[], extra: Record<string, string> = {}): Promise<CliResult> => {
      behaviour = { scope: ['*'], secrets: {}, drip: true };
      return b.run(args, { env: holderEnv(extra), timeoutMs: 25_000 }).catch((err: Error) => ({
        code: null,
        signal: 'SIGKILL' as const,
        stdout: '',
        stderr: `killed after 25 s: ${err.message}`,
      }));
    };

    it('--timeout 2s: a server that answers 200 and then drips its body is cut off with a clear error', async () => {
      const res = await dripRun(['run', '--timeout', '2s', '--', 'true']);
      expect(res.code, res.stderr).toBe(1);
      const line = oneErrorLine(res);
      expect(line).toContain(`the bella server at ${serverUrl} did not answer within 2s`);
      expect(line).toContain('--timeout');
    });

    it('BELLA_TIMEOUT sets it too', async () => {
      const res = await dripRun(['pull', '-o', 'json'], { BELLA_TIMEOUT: '3s' });
      expect(res.code, res.stderr).toBe(1);
      expect(oneErrorLine(res)).toContain('did not answer within 3s');
    });
  });

  describe('4. no plaintext left behind', () => {
    /** Temp files the atomic write would leave: `.FILE.<pid>.<rand>.tmp`. */
    const temps = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));

    it('pull --out onto a directory: an error naming it, and no temp file holding the values', async () => {
      const dir = scratch('isdir');
      fs.mkdirSync(path.join(dir, 'app.json'));
      const res = await b.run(['pull', '-p', 'app', '-e', 'prod', '--out', 'app.json'], { cwd: dir });
      expect(res.code).toBe(1);
      expect(oneErrorLine(res)).toMatch(/cannot write app\.json: it is a directory/);
      expect(temps(dir)).toEqual([]);
    });

    it('inject -o on a full disk: an error saying so, and no temp file', async () => {
      const dir = scratch('full');
      fs.writeFileSync(path.join(dir, 'tpl'), `key={{ bella:API_KEY }}\n${'x'.repeat(64 * 1024)}\n`);
      const mount = path.join(dir, 'disk');
      const unmount = mountTmpfs(mount, '256k');
      try {
        fillDisk(mount);
        const res = await b.run(['inject', '-p', 'app', '-e', 'prod', '-i', 'tpl', '-o', 'disk/config.yml'], {
          cwd: dir,
        });
        expect(res.code).toBe(1);
        expect(oneErrorLine(res)).toMatch(/cannot write disk\/config\.yml: the disk is full/);
        expect(temps(mount)).toEqual([]);
      } finally {
        unmount();
      }
    });
  });

  describe('5. the token is not readable by other users', () => {
    let token: string;
    beforeAll(async () => {
      token = await issueToken(b, 'app/prod', 'API_KEY', 'holder safety test');
    });

    it('/proc/PID/cmdline of a running `bella run --token …` does not hold the token', async () => {
      const dir = scratch('ps');
      const child = b.spawn(['run', '--token', token, '--', 'sh', '-c', 'echo started > started; exec sleep 30'], {
        cwd: dir,
      });
      try {
        await waitFor(() => fs.existsSync(path.join(dir, 'started')), 'the command to start', 20_000);
        const cmdline = fs.readFileSync(`/proc/${child.pid}/cmdline`, 'latin1');
        expect(cmdline).toContain('run');
        expect(cmdline).not.toContain(token.slice(4 + 16 + 1));
        expect(cmdline).not.toContain(token);
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('close', r));
      }
    });

    it('--token-file FILE and --token - (stdin) read the token', async () => {
      const dir = scratch('tokfile');
      fs.writeFileSync(path.join(dir, 'token'), `${token}\n`, { mode: 0o600 });
      const fromFile = await b.run(['run', '--token-file', 'token', '--', 'sh', '-c', 'printf %s "$API_KEY"'], {
        cwd: dir,
      });
      expect(fromFile.code, fromFile.stderr).toBe(0);
      expect(fromFile.stdout).toBe('real-key');
      const fromStdin = await b.run(['pull', '--token', '-', '-o', 'json'], { input: `${token}\n` });
      expect(fromStdin.code, fromStdin.stderr).toBe(0);
      expect(JSON.parse(fromStdin.stdout)).toEqual({ API_KEY: 'real-key' });
    });
  });

  describe('6. a token on the owner machine while its daemon is down', () => {
    it('starts the daemon as owner commands do; elsewhere the holder is told to set BELLA_SERVER', async () => {
      const token = await issueToken(b, 'app/prod', 'API_KEY', 'daemon down test');
      await b.ok(['daemon', 'stop']);
      await waitFor(async () => !(await b.answering()), 'the daemon to stop');
      const res = await b.run(['token', 'lookup', '--token', token, '--json']);
      expect(res.code, res.stderr).toBe(0);
      expect(JSON.parse(res.stdout).lease).toMatchObject({ project: 'app', environment: 'prod', status: 'active' });
      expect(await b.answering()).toBe(true);

      const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-holder-'));
      try {
        const holder = await b.run(['token', 'lookup', '--token', token], {
          env: { BELLA_HOME: elsewhere, BELLA_SOCKET: path.join(elsewhere, 'bella.sock') },
        });
        expect(holder.code).toBe(1);
        expect(oneErrorLine(holder)).toContain('no daemon here holds this lease: set BELLA_SERVER');
        expect(fs.readdirSync(elsewhere)).toEqual([]);
      } finally {
        fs.rmSync(elsewhere, { recursive: true, force: true });
      }
    });
  });

  describe("10. bella doctor on a holder's machine", () => {
    it('checks the server, the pinned fingerprint and the token against the real listener', async () => {
      const token = await issueToken(b, 'app/prod', 'API_KEY', 'doctor test');
      const { listener } = await b.json<{ listener: { urls: string[]; fingerprint: string } }>([
        'listener',
        'enable',
        '--address',
        '127.0.0.1:0',
      ]);
      const holder = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-holder-'));
      const env = {
        BELLA_HOME: holder,
        BELLA_SOCKET: path.join(holder, 'bella.sock'),
        BELLA_SERVER: listener.urls[0] as string,
        BELLA_SERVER_FINGERPRINT: listener.fingerprint,
        BELLA_TOKEN: token,
      };
      type Report = { ok: boolean; checks: { name: string; status: string; detail: string }[] };
      try {
        const good = await b.run(['doctor', '--json'], { env });
        expect(good.code, good.stderr).toBe(0);
        const report = JSON.parse(good.stdout) as Report;
        expect(report.ok).toBe(true);
        const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
        expect(byName.server?.status).toBe('ok');
        expect(byName.fingerprint).toMatchObject({
          status: 'ok',
          detail: expect.stringContaining(listener.fingerprint),
        });
        expect(byName.token).toMatchObject({ status: 'ok', detail: expect.stringMatching(/app\/prod.*active/) });

        const wrong = await b.run(['doctor', '--json'], {
          env: { ...env, BELLA_SERVER_FINGERPRINT: pair.fingerprint },
        });
        expect(wrong.code).toBe(1);
        const wrongReport = JSON.parse(wrong.stdout) as Report;
        expect(wrongReport.checks.find((c) => c.name === 'fingerprint')).toMatchObject({ status: 'fail' });
        expect(fs.readdirSync(holder)).toEqual([]);
      } finally {
        fs.rmSync(holder, { recursive: true, force: true });
        await b.ok(['listener', 'disable']);
      }
    });
  });
});
