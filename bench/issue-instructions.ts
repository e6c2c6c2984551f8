import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DaemonClient } from '../daemon/client';
import { daemonScript } from '../test/helpers/build';
import { seed, sleep, tempPlace } from '../test/helpers/daemon';
import { cannon } from './lib';
import { issueBody } from './cases/issue';

/**
 * Instructions per issued lease, counted by callgrind around a real daemon: machine load does not
 * move them, as it moves CPU time and throughput. The daemon runs under valgrind; after a warm-up
 * (and `preload` leases) the counters are zeroed, `count` leases are issued at `connections`
 * concurrent clients, and the counters dumped. Usage (BELLA_TEST_DIST picks another build):
 *   npx tsx bench/issue-instructions.ts [count] [connections] [preload]
 */
async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 3000);
  const connections = Number(process.argv[3] ?? 16);
  const preload = Number(process.argv[4] ?? 2000);
  const place = tempPlace('bella-callgrind');
  const out = path.join(place.root, 'callgrind.out');
  const proc = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--smc-check=all-non-file',
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
    const body = issueBody(project, environment);
    const issue = (amount: number) =>
      cannon({
        url: 'http://localhost/v1/leases',
        socketPath: place.socket,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        connections,
        amount,
        timeout: 600,
      });
    const warm = await issue(preload);
    if (warm.non2xx || warm.errors) throw new Error(`warm-up: ${warm.non2xx} non-2xx, ${warm.errors} errors`);
    const control = (flag: string) =>
      new Promise<void>((resolve, reject) => {
        const c = spawn('callgrind_control', [flag, String(proc.pid)], { stdio: 'ignore' });
        c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`callgrind_control ${flag}: ${code}`))));
      });
    await control('-z');
    const run = await issue(count);
    if (run.non2xx || run.errors) throw new Error(`run: ${run.non2xx} non-2xx, ${run.errors} errors`);
    await control('-d');
    client.close();
    if (process.env.KEEP_CALLGRIND)
      for (const f of fs.readdirSync(place.root))
        if (f.startsWith('callgrind.out'))
          fs.copyFileSync(path.join(place.root, f), path.join(process.env.KEEP_CALLGRIND, f));
    const dumps = fs.readdirSync(place.root).filter((f) => f.startsWith('callgrind.out'));
    let total = 0;
    for (const f of dumps) {
      const text = fs.readFileSync(path.join(place.root, f), 'utf8');
      // The dump made by -d after the zeroing: its totals are the run's.
      if (!/Trigger: [^\n]*dump/i.test(text)) continue;
      const summary = /^(?:summary|totals): (\d+)/m.exec(text);
      if (summary) total = Math.max(total, Number(summary[1]));
    }
    console.log(
      JSON.stringify({ count, connections, preload, instructions: total, per_issue: Math.round(total / count) }),
    );
  } finally {
    proc.kill('SIGTERM');
    await new Promise((resolve) => proc.once('exit', resolve));
    place.cleanup();
  }
}

await main();
