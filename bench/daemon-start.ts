import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { distDir } from '../test/helpers/build';
import { ensureDaemonBuilt, sleep, startIn, tempPlace } from '../test/helpers/daemon';
import { median } from './lib';

/**
 * The daemon's own CPU time (user + system, getrusage: what /proc/PID/stat counts) at three
 * points of its start, for docs/benchmarks.md "Daemon start-up (start3)":
 *   node     Node's bootstrap done (a `-r` preload runs)
 *   main     the first line of daemon/server/main.ts (every module loaded and evaluated)
 *   ready    the daemon's `serving … on SOCKET` line (listening)
 * and its RSS once it answers and 2 s later.
 *   npx tsx bench/daemon-start.ts [DATA_DIR] [runs]   an empty home, or a copy of DATA_DIR
 *                                                     (bench/scale-open.ts make DIR writes one)
 * BELLA_TEST_DIST=DIR measures another build; BENCH_NODE_ARGS adds node flags (e.g. --cpu-prof).
 */
const [dataDir, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 5);

// main.ts's first statement registers a SIGUSR1 handler: the last one registered before `serving`.
const PRELOAD = `
const ms = () => { const u = process.cpuUsage(); return ((u.user + u.system) / 1000).toFixed(1); };
const marks = { node: ms() };
const on = process.on;
process.on = function (name, ...rest) {
  if (name === 'SIGUSR1' && !marks.ready) marks.main = ms();
  return on.call(this, name, ...rest);
};
const write = process.stderr.write;
process.stderr.write = function (chunk, ...rest) {
  if (!marks.ready && String(chunk).includes(' serving ')) {
    marks.ready = ms();
    write.call(this, 'TRACE ' + JSON.stringify(marks) + '\\n');
  }
  return write.call(this, chunk, ...rest);
};
`;

interface Marks {
  node: number;
  main: number;
  ready: number;
  /** RSS in MB once it answers, and 2 s later. */
  rss: number;
  settled: number;
}

async function once(): Promise<Marks> {
  const place = tempPlace('bella-daemon-start');
  try {
    if (dataDir) execFileSync('cp', ['-a', dataDir, place.home]);
    const preload = path.join(place.root, 'marks.cjs');
    fs.writeFileSync(preload, PRELOAD);
    const extra = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const daemon = await startIn(place, { nodeArgs: ['-r', preload, ...extra], timeoutMs: 180_000 });
    const rss = daemon.rssMb();
    await sleep(2000);
    const settled = daemon.rssMb();
    await daemon.stop();
    const line = fs
      .readFileSync(place.logFile, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('TRACE '));
    if (!line) throw new Error(`no TRACE line in ${place.logFile}`);
    const raw = JSON.parse(line.slice(6)) as Record<'node' | 'main' | 'ready', string>;
    return { node: Number(raw.node), main: Number(raw.main), ready: Number(raw.ready), rss, settled };
  } finally {
    place.cleanup();
  }
}

ensureDaemonBuilt();
const all: Marks[] = [];
for (let i = 0; i < runs; i++) {
  const m = await once();
  all.push(m);
  process.stdout.write(
    `run ${i + 1}: node ${m.node} ms, main ${m.main} ms, ready ${m.ready} ms; RSS ${m.rss} MB, 2 s later ${m.settled} MB\n`,
  );
}
const med = (k: keyof Marks) => median(all.map((m) => m[k])).toFixed(k === 'rss' || k === 'settled' ? 1 : 0);
process.stdout.write(
  `${distDir} ${dataDir || '(empty home)'}: median CPU node ${med('node')} ms, main ${med('main')} ms, ready ${med('ready')} ms; RSS ${med('rss')} MB, settled ${med('settled')} MB\n`,
);
