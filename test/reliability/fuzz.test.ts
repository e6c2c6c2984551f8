import fc from 'fast-check';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, operations, pathParams, type OperationName } from '../../daemon/api';
import { rawRequest, readLog, seed, startIn, tempPlace, type DaemonHandle } from '../helpers/daemon';

const REQUESTS = Number(process.env.BELLA_FUZZ_REQUESTS ?? 10_000);
const PER_RUN = 8;
const names = Object.keys(operations) as OperationName[];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

/** A path parameter: valid-looking, hostile, or broken. */
const param = fc.oneof(
  fc.constantFrom('app', 'prod', 'API_KEY', 'aaaaaaaaaaaaaaaa', '', '..', '%2e%2e', '%zz', '%00', 'A'.repeat(300)),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  // Arbitrary bytes, percent-encoded: invalid UTF-8 and control characters once decoded.
  fc
    .uint8Array({ maxLength: 20 })
    .map((bytes) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')),
  fc.stringMatching(/^[a-z0-9-]{1,70}$/),
);

/** A JSON value that is wrong somewhere: wrong types, extra fields, huge or deep values. */
const jsonValue = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom(
    null,
    true,
    -1,
    0,
    1e308,
    Number.MAX_SAFE_INTEGER,
    '',
    'true',
    '*',
    '../x',
    '__proto__',
    ['API_KEY'],
    [],
    {},
  ),
  fc.string({ minLength: 0, maxLength: 3000 }),
);

/** Field names of the operation's input (so bodies often reach validation deeply), plus hostile ones. */
function fieldNames(name: OperationName): string[] {
  const shape = (operations[name].input as unknown as { shape?: Record<string, unknown> }).shape ?? {};
  return [...Object.keys(shape), '__proto__', 'constructor', 'prototype', 'x'];
}

const body = (name: OperationName) =>
  fc.oneof(
    fc.dictionary(fc.constantFrom(...fieldNames(name)), jsonValue, { maxKeys: 6 }).map((o) => JSON.stringify(o)),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 200 }),
    fc.constantFrom(
      '',
      '{',
      '{"a":',
      'null',
      '[]',
      '"x"',
      '{"__proto__":{"polluted":1}}',
      '{"constructor":{"prototype":{"polluted":1}}}',
      '['.repeat(5000) + ']'.repeat(5000),
      '{"a":' + '['.repeat(2000) + ']'.repeat(2000) + '}',
    ),
  );

const query = (name: OperationName) =>
  fc
    .array(fc.tuple(fc.constantFrom(...fieldNames(name), 'keys', 'limit', 'cursor'), fc.oneof(param, fc.string())), {
      maxLength: 4,
    })
    .map((pairs) => new URLSearchParams(pairs).toString());

const headers = fc.record(
  {
    'content-type': fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      '',
    ),
    authorization: fc.oneof(
      fc.constantFrom('Bearer ', 'Bearer bax-', 'Basic Zm9vOmJhcg==', 'bax-aaaaaaaaaaaaaaaa-' + 'A'.repeat(43)),
      fc.string({ maxLength: 80 }).map((s) => `Bearer ${s.replace(/[^\x20-\x7e]/g, '')}`),
      fc.stringMatching(/^Bearer bax-[a-z0-9]{16}-[A-Za-z0-9_-]{43}$/),
    ),
  },
  { requiredKeys: [] },
);

/** One malformed request against one route of the contract. */
const request = fc.constantFrom(...names).chain((name) => {
  const spec = operations[name];
  return fc
    .record({
      params: fc.array(param, { minLength: 4, maxLength: 4 }),
      // Mostly the route's own method (so input validation is reached), sometimes another one.
      method: fc.oneof({ weight: 4, arbitrary: fc.constant(spec.method) }, fc.constantFrom(...METHODS)),
      query: query(name),
      body: fc.option(body(name), { nil: undefined }),
      headers,
      // Hits beside the route: trailing segments, doubled slashes, no /v1.
      mangle: fc.constantFrom('none', 'none', 'none', 'suffix', 'double-slash', 'no-version'),
      dropGetBody: fc.boolean(),
    })
    .map((r) => {
      let path = spec.path;
      pathParams(spec.path).forEach((p, i) => (path = path.replace(`:${p}`, r.params[i] ?? '')));
      if (r.mangle === 'suffix') path += '/extra';
      if (r.mangle === 'double-slash') path = path.replace('/v1/', '/v1//');
      if (r.mangle === 'no-version') path = path.replace('/v1/', '/');
      const hdrs: Record<string, string> = {};
      for (const [k, v] of Object.entries(r.headers)) if (v !== undefined && v !== '') hdrs[k] = v;
      // A request that is exactly a valid shutdown is not malformed; give it a broken body instead.
      const broken = name === 'shutdown' && r.method === 'POST' ? '{"broken":' : r.body;
      const req = {
        name,
        method: r.method,
        path: r.query ? `${path}?${r.query}` : path,
        headers: hdrs,
        body: r.method === 'GET' && r.dropGetBody ? undefined : broken,
      };
      // Counterexamples print short: a whole 10 kB body would drown the report.
      return Object.assign(req, {
        [fc.toStringMethod]: () =>
          `${req.method} ${req.path.slice(0, 200)} ${JSON.stringify(req.headers)} body=${String(req.body).slice(0, 120)}`,
      });
    });
});

describe('fuzzing every route with malformed requests', () => {
  const place = tempPlace('bella-fuzz');
  let daemon: DaemonHandle;
  const agent = new http.Agent({ keepAlive: true, maxSockets: PER_RUN });

  beforeAll(async () => {
    daemon = await startIn(place);
    await seed(daemon.client);
  });
  afterAll(async () => {
    agent.destroy();
    await daemon?.stop();
    place.cleanup();
  });

  it(`answers ${REQUESTS} generated malformed requests without a crash, a 5xx or an error without code and message`, async () => {
    let sent = 0;
    const statuses = new Map<number, number>();
    const perRoute = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: PER_RUN, maxLength: PER_RUN }), async (reqs) => {
        const answers = await Promise.all(
          reqs.map((r) => {
            const hdrs = { ...r.headers };
            if (r.body !== undefined) hdrs['content-length'] = String(Buffer.byteLength(r.body));
            return rawRequest(daemon.socket, { method: r.method, path: r.path, headers: hdrs, body: r.body }, agent);
          }),
        );
        answers.forEach((res, i) => {
          const req = reqs[i]!;
          sent++;
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          perRoute.set(req.name, (perRoute.get(req.name) ?? 0) + 1);
          const where = `${req.method} ${req.path.slice(0, 200)} body=${String(req.body).slice(0, 200)}`;
          expect(res.status, where).toBeLessThan(500);
          if (res.status >= 400) {
            const parsed = JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown } };
            expect(ERROR_CODES, where).toContain(parsed.error?.code);
            expect(typeof parsed.error?.message, where).toBe('string');
            expect((parsed.error?.message as string).length, where).toBeGreaterThan(0);
          }
        });
      }),
      { numRuns: Math.ceil(REQUESTS / PER_RUN), endOnFailure: true },
    );
    expect(sent).toBeGreaterThanOrEqual(REQUESTS);
    expect(perRoute.size).toBe(names.length);
    // Still alive and serving, and nothing the fuzzer did was logged as an internal error.
    expect(daemon.proc.exitCode).toBeNull();
    expect((await daemon.client.call('status', {})).pid).toBe(daemon.pid);
    expect(readLog(daemon.logFile)).not.toMatch(/internal error/);
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    console.log(
      `fuzz: ${sent} requests over ${perRoute.size} routes; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
  }, 900_000);

  it('answers bytes that are not HTTP at all with a wire error, and keeps serving', async () => {
    const garbage = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b)),
      fc
        .constantFrom(
          'GET\r\n\r\n',
          'GET / HTTP/9.9\r\n\r\n',
          'POST /v1/leases HTTP/1.1\r\nContent-Length: -1\r\n\r\n',
          'POST /v1/leases HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
          `GET /v1/status HTTP/1.1\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`,
          'GET /v1/status HTTP/1.1\r\nHost: x\r\nHost\r\n\r\n',
        )
        .map((s) => Buffer.from(s)),
    );
    const answers: string[] = [];
    let emptyNodeAnswers = 0;
    await fc.assert(
      fc.asyncProperty(garbage, async (bytes) => {
        const answer = await rawExchange(daemon.socket, bytes);
        answers.push(answer);
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
        if (!answer) return;
        expect(status, answer.slice(0, 300)).toBeGreaterThanOrEqual(400);
        expect(status, answer.slice(0, 300)).toBeLessThan(500);
        // One request, one answer: a second response on the same connection would desync a client.
        expect(answer.match(/HTTP\/1\.1 \d{3} /g)?.length, answer.slice(0, 500)).toBe(1);
        const head = answer.slice(0, answer.indexOf('\r\n\r\n'));
        const body = answer.slice(head.length + 4);
        // Node's HTTP layer itself may end a request whose body framing is broken with an empty 400.
        if (/transfer-encoding: chunked/i.test(head) && body === '0\r\n\r\n') {
          emptyNodeAnswers++;
          return;
        }
        const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
        expect(ERROR_CODES, answer.slice(0, 300)).toContain(parsed.error?.code);
        expect(typeof parsed.error?.message).toBe('string');
      }),
      { numRuns: 300, endOnFailure: true },
    );
    expect((await daemon.client.call('status', {})).pid).toBe(daemon.pid);
    console.log(
      `fuzz: ${answers.length} non-HTTP payloads, ${answers.filter((a) => !a).length} closed without an answer, ${emptyNodeAnswers} empty 400s from Node's HTTP layer`,
    );
  }, 300_000);
});

/** Writes raw bytes to the socket and returns whatever comes back before the daemon closes (or 2 s pass). */
function rawExchange(socketPath: string, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(socketPath);
    let out = '';
    const timer = setTimeout(() => sock.destroy(), 2000);
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => (out += d));
    sock.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' || err.code === 'EPIPE' ? undefined : reject(err),
    );
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    sock.end(bytes);
  });
}
