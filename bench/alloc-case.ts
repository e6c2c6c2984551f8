import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Bytes a bench case's daemon allocates per unit of work, by function: the whole case runs (start-up
 * and warm-up included) with the daemon under V8's sampling heap profiler (every 1 KB, objects that
 * died young included: what the scavenges sweep), and the total is divided by `units`. Allocation
 * does not move with the machine's load, as CPU time and throughput do. BELLA_TEST_DIST picks
 * another build (one without whitespace minification keeps each function's own line).
 * With BENCH_ALLOC_SURVIVORS=1 only what outlived a scavenge is counted (promoted to the old space,
 * whether it died later in a full collection or lived to the end): what makes the scavenges long.
 * Usage: npx tsx bench/alloc-case.ts CASE UNITS [TOP]   e.g. `ci_login 2500` (2,000 logins + 500 of warm-up)
 */
const PRELOAD = `
const inspector = require('node:inspector');
const fs = require('node:fs');
const session = new inspector.Session();
session.connect();
session.post('HeapProfiler.startSampling', {
  samplingInterval: 1024,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: process.env.BENCH_ALLOC_SURVIVORS !== '1',
});
process.on('exit', () =>
  session.post('HeapProfiler.stopSampling', (e, r) => {
    if (r) fs.writeFileSync(process.env.BENCH_ALLOC_DIR + '/alloc-' + process.pid + '.heapprofile', JSON.stringify(r.profile));
  }),
);
`;

interface AllocNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: AllocNode[];
}

function main(): void {
  const [name, unitsArg, topArg] = process.argv.slice(2);
  const units = Number(unitsArg);
  if (!name || !(units > 0)) throw new Error('usage: bench/alloc-case.ts CASE UNITS [TOP]');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-alloc-'));
  try {
    const preload = path.join(dir, 'preload.cjs');
    fs.writeFileSync(preload, PRELOAD);
    const run = spawnSync('npx', ['tsx', path.join(import.meta.dirname, 'run.ts')], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        BENCH_ONLY: name,
        BENCH_ALLOC_DIR: dir,
        BENCH_NODE_ARGS: `${process.env.BENCH_NODE_ARGS ?? ''} --require ${preload}`.trim(),
      },
    });
    if (run.status !== 0) throw new Error(`the ${name} case failed (${run.status})`);
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.heapprofile'));
    if (files.length !== 1) throw new Error(`expected one daemon profile, found ${files.length}`);
    const head = (JSON.parse(fs.readFileSync(path.join(dir, files[0]!), 'utf8')) as { head: AllocNode }).head;
    // Builtins (no url) are named with the nearest caller that has one.
    const byFunction = new Map<string, number>();
    let total = 0;
    const visit = (node: AllocNode, caller: string | null) => {
      const f = node.callFrame;
      const own = `${f.functionName || '(anonymous)'} ${path.basename(f.url)}:${f.lineNumber + 1}`;
      const key = !f.url && caller ? `${own} <- ${caller}` : own;
      byFunction.set(key, (byFunction.get(key) ?? 0) + node.selfSize);
      total += node.selfSize;
      for (const child of node.children) visit(child, f.url ? own : caller);
    };
    visit(head, null);
    console.log(`bytes allocated per unit: ${Math.round(total / units)}`);
    for (const [key, bytes] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 40))) {
      console.log(`${String(Math.round(bytes / units)).padStart(7)}  ${key}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
