import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { seed, sleep, startIn, tempPlace } from '../test/helpers/daemon';
import { issueBody } from './cases/issue';
import { cannon, cpuUs, median, round } from './lib';

/**
 * The issue path of one daemon at a chosen concurrency (the `issue` case runs 64 clients; CI
 * logins come 16 at a time, so their commit groups are smaller): after `preload` issues of warm-up,
 * `count` more, measured one of three ways (BELLA_TEST_DIST picks another build):
 * - `cpu`: the daemon's CPU µs per lease (user + system, `/proc`), median of 3 rounds;
 * - `alloc [FILE]`: bytes allocated per lease by function, from V8's sampling heap profiler with the
 *   objects that died young included (allocation does not move with the machine's load); the
 *   profile is kept in FILE when one is named (a `.heapprofile`, for DevTools);
 * - `profile FILE`: a CPU profile of the same window written to FILE (for bench/profile.ts);
 * - `syscalls`: system calls per lease, all threads (`strace -c -f` attached for the window).
 * Usage: npx tsx bench/issue-profile.ts cpu|alloc|profile|syscalls [count] [connections] [preload] [FILE]
 */
interface AllocNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: AllocNode[];
}

/** A preload that starts the profiler on the first SIGUSR2 and writes its result on the second. */
const PRELOAD = `
const inspector = require('node:inspector');
const fs = require('node:fs');
const session = new inspector.Session();
session.connect();
const out = process.env.BENCH_PROFILE_OUT;
const cpu = process.env.BENCH_PROFILE_KIND === 'cpu';
let on = false;
process.on('SIGUSR2', () => {
  if (!on) {
    on = true;
    if (cpu) session.post('Profiler.enable', () => session.post('Profiler.start'));
    else
      session.post('HeapProfiler.startSampling', {
        samplingInterval: 1024,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
  } else {
    const stop = cpu ? 'Profiler.stop' : 'HeapProfiler.stopSampling';
    session.post(stop, (e, r) => fs.writeFileSync(out, JSON.stringify(r.profile)));
  }
});
`;

function allocByFunction(profile: { head: AllocNode }, count: number): void {
  const byFunction = new Map<string, number>();
  let total = 0;
  const visit = (node: AllocNode) => {
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${path.basename(f.url)}:${f.lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + node.selfSize);
    total += node.selfSize;
    node.children.forEach(visit);
  };
  visit(profile.head);
  console.log(`bytes allocated per lease: ${Math.round(total / count)}`);
  for (const [key, bytes] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`${String(Math.round(bytes / count)).padStart(7)}  ${key}`);
  }
}

async function main(): Promise<void> {
  const mode = process.argv[2];
  const count = Number(process.argv[3] ?? 5000);
  const connections = Number(process.argv[4] ?? 16);
  const preload = Number(process.argv[5] ?? 3000);
  if (!['cpu', 'alloc', 'profile', 'syscalls'].includes(mode ?? ''))
    throw new Error('usage: bench/issue-profile.ts cpu|alloc|profile|syscalls [count] [connections] [preload] [FILE]');
  const place = tempPlace('bella-issue-profile');
  const script = path.join(place.root, 'profile-preload.cjs');
  const out =
    mode === 'profile'
      ? path.resolve(process.argv[6] ?? 'issue.cpuprofile')
      : process.argv[6]
        ? path.resolve(process.argv[6])
        : path.join(place.root, 'p.json');
  fs.writeFileSync(script, PRELOAD);
  const daemon = await startIn(place, {
    nodeArgs: mode === 'alloc' || mode === 'profile' ? ['--require', script] : [],
    env: { BENCH_PROFILE_OUT: out, BENCH_PROFILE_KIND: mode === 'profile' ? 'cpu' : 'alloc' },
  });
  try {
    const { project, environment } = await seed(daemon.client);
    const body = issueBody(project, environment);
    const issue = async (amount: number) => {
      const run = await cannon({
        url: 'http://localhost/v1/leases',
        socketPath: daemon.socket,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        connections,
        amount,
      });
      if (run.non2xx || run.errors) throw new Error(`${run.non2xx} non-2xx answers and ${run.errors} errors`);
    };
    await issue(preload);
    if (mode === 'cpu') {
      const runs: number[] = [];
      for (let i = 0; i < 3; i++) {
        const before = cpuUs(daemon.pid);
        await issue(count);
        runs.push((cpuUs(daemon.pid) - before) / count);
      }
      console.log(JSON.stringify({ connections, count, cpu_us_per_lease: round(median(runs), 1), runs_us: runs }));
      return;
    }
    if (mode === 'syscalls') {
      const file = path.join(place.root, 'strace.txt');
      const strace = spawn('strace', ['-c', '-f', '-o', file, '-p', String(daemon.pid)], { stdio: 'ignore' });
      await sleep(1000);
      await issue(count);
      const exited = new Promise((resolve) => strace.once('exit', resolve));
      strace.kill('SIGINT');
      await exited;
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$/.exec(line);
        if (m) console.log(`${(Number(m[1]) / count).toFixed(2).padStart(7)}  ${m[2]}`);
      }
      return;
    }
    process.kill(daemon.pid, 'SIGUSR2');
    await sleep(200);
    await issue(count);
    process.kill(daemon.pid, 'SIGUSR2');
    for (let i = 0; !fs.existsSync(out) && i < 100; i++) await sleep(100);
    await sleep(300);
    if (mode === 'alloc') allocByFunction(JSON.parse(fs.readFileSync(out, 'utf8')) as { head: AllocNode }, count);
  } finally {
    await daemon.stop();
    place.cleanup();
  }
}

await main();
