import type autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DaemonClient } from '../daemon/client';
import { daemonScript } from '../test/helpers/build';
import { seed, sleep, tempPlace } from '../test/helpers/daemon';
import { cannon, freePort } from './lib';
import { issueBody } from './cases/issue';
import { readLease } from './cases/reads';

/**
 * Instructions per request, counted by callgrind around a real daemon: machine load does not move
 * them, as it moves CPU time and throughput. The daemon runs under valgrind; after a warm-up (`preload`
 * requests) the counters are zeroed, `count` requests are made at `connections` concurrent clients,
 * and the counters dumped. At one connection every request is its own commit group, so the count
 * does not move with how many requests share an fdatasync. The requests: `issue` (a lease),
 * `reads` (a token read of 3 keys on the socket), `remote_reads` (the same over the TLS listener).
 * Usage (BELLA_TEST_DIST picks another build):
 *   npx tsx bench/instructions.ts issue|reads|remote_reads [count] [connections] [preload]
 */
async function main(): Promise<void> {
  const kind = process.argv[2];
  if (kind !== 'issue' && kind !== 'reads' && kind !== 'remote_reads')
    throw new Error('usage: bench/instructions.ts issue|reads|remote_reads [count] [connections] [preload]');
  const count = Number(process.argv[3] ?? 3000);
  const connections = Number(process.argv[4] ?? 16);
  const preload = Number(process.argv[5] ?? 2000);
  const place = tempPlace('bella-callgrind');
  const out = path.join(place.root, 'callgrind.out');
  const proc = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--smc-check=all-non-file',
      '--separate-threads=yes',
      `--callgrind-out-file=${out}`,
      process.execPath,
      daemonScript,
      '--home',
      place.home,
      '--socket',
      place.socket,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  try {
    for (let i = 0; !fs.existsSync(place.socket); i++) {
      if (proc.exitCode !== null || i > 1200) throw new Error(`the daemon did not start: ${stderr}`);
      await sleep(100);
    }
    const client = new DaemonClient({ socketPath: place.socket, timeoutMs: 600_000 });
    const { project, environment } = await seed(client);
    let target: Pick<autocannon.Options, 'url' | 'socketPath' | 'servername'> = { socketPath: place.socket, url: '' };
    let request: Pick<autocannon.Options, 'method' | 'headers' | 'body'>;
    if (kind === 'issue') {
      target.url = 'http://localhost/v1/leases';
      const body = issueBody(project, environment);
      request = { method: 'POST', headers: { 'content-type': 'application/json' }, body };
    } else {
      target.url = 'http://localhost/v1/secrets';
      const token = await readLease(client, project, environment);
      request = { method: 'GET', headers: { authorization: `Bearer ${token}` } };
    }
    if (kind === 'remote_reads') {
      const port = await freePort();
      await client.call('enableListener', { address: `127.0.0.1:${port}` });
      target = { url: `https://127.0.0.1:${port}/v1/secrets`, servername: 'localhost' };
    }
    const load = (amount: number) => cannon({ ...target, ...request, connections, amount, timeout: 600 });
    const warm = await load(preload);
    if (warm.non2xx || warm.errors) throw new Error(`warm-up: ${warm.non2xx} non-2xx, ${warm.errors} errors`);
    const control = (flag: string) =>
      new Promise<void>((resolve, reject) => {
        const c = spawn('callgrind_control', [flag, String(proc.pid)], { stdio: 'ignore' });
        c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`callgrind_control ${flag}: ${code}`))));
      });
    await control('-z');
    const run = await load(count);
    if (run.non2xx || run.errors) throw new Error(`run: ${run.non2xx} non-2xx, ${run.errors} errors`);
    await control('-d');
    client.close();
    if (process.env.KEEP_CALLGRIND)
      for (const f of fs.readdirSync(place.root))
        if (f.startsWith('callgrind.out'))
          fs.copyFileSync(path.join(place.root, f), path.join(process.env.KEEP_CALLGRIND, f));
    const dumps = fs.readdirSync(place.root).filter((f) => f.startsWith('callgrind.out'));
    let total = 0;
    let main = 0;
    for (const f of dumps) {
      const text = fs.readFileSync(path.join(place.root, f), 'utf8');
      // The dump made by -d after the zeroing: its totals are the run's (one file per thread).
      if (!/Trigger: [^\n]*dump/i.test(text)) continue;
      const summary = /^(?:summary|totals): (\d+)/m.exec(text);
      if (!summary) continue;
      total += Number(summary[1]);
      if (/^thread: 1$/m.test(text)) main = Number(summary[1]);
    }
    // The other threads are V8's (optimising compiler, GC helpers) and libuv's pool: the compiler's
    // share shrinks with a longer warm-up, so the main thread's count compares builds best.
    console.log(
      JSON.stringify({
        kind,
        count,
        connections,
        preload,
        instructions: total,
        per_request: Math.round(total / count),
        main_thread_per_request: Math.round(main / count),
      }),
    );
  } finally {
    proc.kill('SIGTERM');
    await new Promise((resolve) => proc.once('exit', resolve));
    place.cleanup();
  }
}

await main();
