import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSelfSigned, type CertificatePair } from '../../daemon/services/listener/certificate';
import { repoRoot, waitFor } from './cli';
import { fixtureArgs, lastJson } from './fixtures';
import type { RemoteCallRequest, RemoteCallResult } from './fixtures/remote-call';
import { createNetnsPair, type PairHost } from './netns';
import { STUB_ANSWER } from './stub-server';

const netns = createNetnsPair();
if (!netns.ok) console.warn(`two-host tests skipped: ${netns.reason}`);
const TOKEN = 'bax-lease1-' + 'T'.repeat(43);
const PORT = 7443;

describe.skipIf(!netns.ok)(`two hosts in network namespaces${netns.ok ? '' : ` (skipped: ${netns.reason})`}`, () => {
  const { a, b } = netns.ok ? netns.pair : ({} as { a: PairHost; b: PairHost });
  let root: string;
  let pair: CertificatePair;
  let server: ChildProcess;
  const events: Record<string, unknown>[] = [];
  const count = (kind: string) => events.filter((e) => kind in e).length;

  /** The environment of a process on a "host" whose user's HOME is `home`: no bella variables. */
  const hostEnv = (home: string): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
    for (const k of [
      'BELLA_HOME',
      'BELLA_SOCKET',
      'BELLA_SERVER',
      'BELLA_SERVER_FINGERPRINT',
      'BELLA_TOKEN',
      'XDG_DATA_HOME',
    ])
      delete env[k];
    return env;
  };
  const homeOf = (side: 'a' | 'b') => path.join(root, `home-${side}`);
  const callFromB = async (request: Partial<RemoteCallRequest>): Promise<RemoteCallResult> =>
    lastJson<RemoteCallResult>(
      await b.run(
        process.execPath,
        fixtureArgs('remote-call', {
          server: `https://${a.address}:${PORT}`,
          token: TOKEN,
          operation: 'readSecrets',
          input: {},
          ...request,
        }),
        { env: hostEnv(homeOf('b')), cwd: repoRoot },
      ),
    );

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-netns-'));
    for (const side of ['a', 'b'] as const) fs.mkdirSync(homeOf(side), { mode: 0o700 });
    pair = await generateSelfSigned({ dnsNames: ['bella-a.test'], ipAddresses: [a.address] });
    const certFile = path.join(root, 'cert.pem');
    const keyFile = path.join(root, 'key.pem');
    fs.writeFileSync(certFile, pair.certPem);
    fs.writeFileSync(keyFile, pair.keyPem, { mode: 0o600 });
    server = a.spawn(process.execPath, fixtureArgs('tls-server', { host: a.address, port: PORT, certFile, keyFile }), {
      cwd: repoRoot,
      env: hostEnv(homeOf('a')),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buffer = '';
    server.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buffer += d;
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        events.push(JSON.parse(buffer.slice(0, i)) as Record<string, unknown>);
        buffer = buffer.slice(i + 1);
      }
    });
    await waitFor(() => count('listening') === 1, `the TLS server in ${a.name} to listen`, 20_000);
  });

  afterAll(() => {
    server?.kill('SIGKILL');
    if (netns.ok) netns.pair.cleanup();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('puts A and B on one private /30, each with its own loopback', () => {
    expect(a.address).toMatch(/^10\.199\.\d{1,3}\.1$/);
    expect(b.address).toBe(a.address.replace(/\.1$/, '.2'));
    expect([a.peer, b.peer]).toEqual([b.address, a.address]);
    expect(a.name).toMatch(/^bella-a-[0-9a-f]{8}$/);
    expect(b.name).toMatch(/^bella-b-[0-9a-f]{8}$/);
  });

  it('lets a holder in B read from the TLS server in A with the pinned client', async () => {
    const before = count('request');
    const answer = await callFromB({ fingerprint: pair.fingerprint, input: { keys: 'API_KEY' } });
    expect(answer).toEqual({
      ok: true,
      result: STUB_ANSWER,
    });
    expect(events.filter((e) => 'request' in e).slice(before)).toEqual([
      { request: { method: 'GET', url: '/v1/secrets?keys=API_KEY', authorization: `Bearer ${TOKEN}` } },
    ]);
  });

  it('refuses a wrong pin from B, naming both fingerprints, and A receives no request byte', async () => {
    const other = await generateSelfSigned({ dnsNames: ['bella-a.test'], ipAddresses: [a.address] });
    const [handshakes, bytes, requests] = [count('handshake'), count('bytes'), count('request')];
    const answer = await callFromB({ fingerprint: other.fingerprint });
    expect(answer).toEqual({
      ok: false,
      code: 'permission_denied',
      message: `the server at https://${a.address}:${PORT} presented certificate ${pair.fingerprint} but BELLA_SERVER_FINGERPRINT is ${other.fingerprint}: nothing was sent; check the fingerprint with the lease's owner (bella listener status)`,
    });
    await waitFor(() => count('handshake') === handshakes + 1, 'the refused handshake to reach A', 10_000);
    await new Promise((r) => setTimeout(r, 200));
    expect([count('bytes'), count('request')]).toEqual([bytes, requests]);
  });

  it("does not reach A's listener through B's own loopback", async () => {
    const answer = await callFromB({ server: `https://127.0.0.1:${PORT}`, fingerprint: pair.fingerprint });
    expect(answer).toMatchObject({
      ok: false,
      code: 'unavailable',
      message: expect.stringContaining('connection refused'),
    });
  });

  it('gives B no way to the Unix socket of A it was not given: its own HOME has none', async () => {
    const socketA = path.join(homeOf('a'), '.local', 'share', 'bella', 'run', 'bella.sock');
    fs.mkdirSync(path.dirname(socketA), { recursive: true, mode: 0o700 });
    const unix = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => unix.listen(socketA, r));
    try {
      const probe = async (side: PairHost, home: string) =>
        lastJson<{ home: string; socket: string; connect: string }>(
          await side.run(process.execPath, fixtureArgs('socket-probe'), { env: hostEnv(home), cwd: repoRoot }),
        );
      // The probe does find a daemon socket where its HOME points at one.
      expect(await probe(a, homeOf('a'))).toEqual({
        home: path.dirname(path.dirname(socketA)),
        socket: socketA,
        connect: 'ok',
      });
      const fromB = await probe(b, homeOf('b'));
      expect(fromB.socket.startsWith(homeOf('b') + path.sep)).toBe(true);
      expect(fromB.connect).toBe('ENOENT');
    } finally {
      unix.close();
    }
  });
});
