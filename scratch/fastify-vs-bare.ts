import fs from 'node:fs';
import http from 'node:http';
import Fastify from 'fastify';
import autocannon from 'autocannon';
const body = JSON.stringify({ project: 'app', environment: 'prod', leaseId: 'l_x', expiresAt: new Date().toISOString(), secrets: { API_KEY: 'k-1', DB_URL: 'postgres://x', STRIPE_KEY: 'sk_live_1' } });
const run = (socketPath: string) => new Promise<any>((r) => autocannon({ url: 'http://localhost/v1/secrets', socketPath, connections: 64, duration: 4, headers: { authorization: 'Bearer x' } }, (e, res) => r(res)));
const mode = process.argv[2];
const sock = `/tmp/fvb-${mode}.sock`; fs.rmSync(sock, { force: true });
if (mode === 'bare') {
  http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) }); res.end(body); }); }).listen(sock);
} else {
  const app = Fastify();
  app.get('/v1/secrets', async (req, reply) => { reply.type('application/json; charset=utf-8'); return JSON.parse(body); });
  await app.listen({ path: sock });
}
await new Promise((r) => setTimeout(r, 200));
await run(sock);
const res = await run(sock);
console.log(mode, Math.round(res.requests.average), 'rps p99', res.latency.p99);
process.exit(0);
