import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SEND_OPTIONS, send } from './send';
import { type Receiver, type Responder, answer, hang, startReceiver, waitFor } from '../../test/helpers/channels';

const receivers: Receiver[] = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function receiver(respond?: Responder): Promise<Receiver> {
  const r = await startReceiver(respond);
  receivers.push(r);
  return r;
}

/** The receivers are on loopback over plain HTTP: the rules allow both (see address.test.ts for refusals). */
const LOOPBACK_RULES = { kind: 'webhook', allowPrivate: true, insecureHttp: true, anyHost: false } as const;

const post = (url: string, options = DEFAULT_SEND_OPTIONS) =>
  send({ url, headers: { 'webhook-id': 'msg_1' }, body: '{"hello":"wörld"}', rules: LOOPBACK_RULES }, options);

describe('send', () => {
  it('POSTs the body byte for byte with its headers; a 2xx is delivered', async () => {
    const r = await receiver(answer(204));
    const result = await post(r.url);
    expect(result).toMatchObject({ outcome: 'delivered', status: 204, error: null });
    expect(r.received).toHaveLength(1);
    expect(r.received[0]?.body).toBe('{"hello":"wörld"}');
    expect(r.received[0]?.headers['content-type']).toBe('application/json');
    expect(r.received[0]?.headers['webhook-id']).toBe('msg_1');
  });

  it('410 Gone asks to disable the channel', async () => {
    const r = await receiver(answer(410));
    expect(await post(r.url)).toMatchObject({
      outcome: 'disable',
      status: 410,
      error: 'the receiver answered 410 Gone',
    });
  });

  it('5xx and 4xx are retryable failures with a short reason', async () => {
    const r500 = await receiver(answer(500));
    const r429 = await receiver(answer(429));
    expect(await post(r500.url)).toMatchObject({ outcome: 'retry', status: 500, error: 'HTTP 500' });
    expect(await post(r429.url)).toMatchObject({ outcome: 'retry', status: 429, error: 'HTTP 429' });
  });

  it('never follows a redirect: a 302 is a failure and its target hears nothing', async () => {
    const target = await receiver(answer(200));
    const bouncer = await receiver(answer(302, { location: target.url }));
    const result = await post(bouncer.url);
    expect(result).toMatchObject({ outcome: 'retry', status: 302, error: 'redirect (HTTP 302) not followed' });
    expect(bouncer.received).toHaveLength(1);
    expect(target.received).toHaveLength(0);
  });

  it('reads at most about the cap of a 10 MB response and drops the connection', async () => {
    const size = 10 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let accepted = 0;
    let writeFailed = false;
    const r = await receiver((_request, _n, res) => {
      res.writeHead(200, { 'content-length': String(size) });
      const pump = (): void => {
        while (accepted < size) {
          accepted += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      res.on('error', () => (writeFailed = true));
      res.on('close', () => (writeFailed ||= !res.writableFinished));
      pump();
    });
    const result = await post(r.url);
    expect(result.outcome).toBe('delivered');
    expect(result.responseBytes).toBeGreaterThanOrEqual(DEFAULT_SEND_OPTIONS.maxResponseBytes);
    expect(result.responseBytes).toBeLessThanOrEqual(DEFAULT_SEND_OPTIONS.maxResponseBytes + chunk.length);
    await waitFor(() => writeFailed, 'the receiver to see the connection dropped');
    expect(accepted).toBeLessThan(size);
  });

  it('abandons a receiver that never answers at the total timeout', async () => {
    const r = await receiver(hang);
    const result = await post(r.url, { ...DEFAULT_SEND_OPTIONS, totalTimeoutMs: 200 });
    expect(result).toMatchObject({ outcome: 'retry', status: null, error: 'no response within 0.2 s' });
    expect(r.received).toHaveLength(1);
    await waitFor(() => r.open() === 0, 'the hung request to be closed');
  });

  it('gives up connecting at the connect timeout (a listener whose accept queue is full)', async () => {
    // A child process listens with a backlog of 1 and then blocks its event loop without spinning,
    // so the kernel queues a connection or two and drops every SYN after that.
    const child: ChildProcess = spawn(
      process.execPath,
      [
        '-e',
        `const s = require('node:net').createServer();
         s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
           process.stdout.write(String(s.address().port) + '\\n', () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0));
         });`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    cleanups.push(() => child.kill('SIGKILL'));
    const port = await new Promise<number>((resolve) =>
      child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString()))),
    );
    const fillers: net.Socket[] = [];
    cleanups.push(() => fillers.forEach((s) => s.destroy()));
    for (let i = 0; i < 8; i++) {
      const socket = net.connect(port, '127.0.0.1');
      fillers.push(socket);
      const connected = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 300);
        socket.once('connect', () => (clearTimeout(timer), resolve(true)));
      });
      if (!connected) break;
    }
    const result = await post(`http://127.0.0.1:${port}/hook`, { ...DEFAULT_SEND_OPTIONS, connectTimeoutMs: 200 });
    expect(result).toMatchObject({ outcome: 'retry', status: null, error: 'could not connect within 0.2 s' });
  });

  it('a refused connection is retryable and names no URL', async () => {
    const r = await receiver();
    await r.close();
    receivers.splice(receivers.indexOf(r), 1);
    const result = await post(r.url);
    expect(result).toMatchObject({ outcome: 'retry', status: null, error: 'connection refused' });
  });

  it('only http: and https: URLs: anything else disables the channel without a request', async () => {
    for (const url of ['file:///etc/passwd', 'ftp://127.0.0.1/x', 'not a url']) {
      const result = await post(url);
      expect(result.outcome).toBe('disable');
      expect(result.error).not.toContain('passwd');
    }
  });

  it('keeps the connection for the next delivery, and sends again on a new one when the receiver closed it', async () => {
    // The receiver answers the first request on each connection and resets the connection on the
    // second one, without answering: a kept connection the receiver closed as a delivery went out.
    const perConnection = new WeakMap<object, number>();
    const r = await receiver((_request, _n, res) => {
      const count = (perConnection.get(res.socket!) ?? 0) + 1;
      perConnection.set(res.socket!, count);
      if (count === 1) res.writeHead(200, { connection: 'keep-alive' }).end();
      else res.socket!.destroy();
    });
    expect(await post(r.url)).toMatchObject({ outcome: 'delivered', status: 200 });
    expect(await post(r.url)).toMatchObject({ outcome: 'delivered', status: 200 });
    // The first delivery, the reset one on the kept connection, and its resend on a new connection.
    expect(r.received).toHaveLength(3);
  });
});
