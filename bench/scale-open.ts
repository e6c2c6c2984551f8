import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { createDesktopNotifier } from '../daemon/notify';
import { createServices, EventBus } from '../daemon/services';
import { Store } from '../daemon/store';
import { ensureDaemonBuilt, rssMb, sleep, tempPlace } from '../test/helpers/daemon';
import type { DaemonEvent } from '../daemon/api';
import { benchDaemon, waitFor } from './lib';
import { generate } from './cases/scale';

/**
 * The cold start and RSS of a daemon on a kept data dir of N active leases (none expiring), for
 * breakdowns (docs/benchmarks.md, "Cold start and RSS at 100k and 1M (scale2)").
 *   npx tsx bench/scale-open.ts make DIR [N]      writes DIR once (default N = 100,000); with
 *                                                 EXPIRING=k the last k expire at one instant
 *                                                 (written to DIR.json), for `expiry`
 *   npx tsx bench/scale-open.ts daemon DIR [runs] a real daemon on a copy of DIR: cold start, RSS at
 *                                                 ready and after 5 list pages (BENCH_PROFILE=1 for
 *                                                 a CPU profile, BENCH_NODE_ARGS for V8 flags)
 *   npx tsx bench/scale-open.ts inproc DIR        Store.open and the lifecycle's start in this
 *                                                 process, step by step: CPU ms and heap
 *   npx tsx bench/scale-open.ts expiry DIR        the same, then the k leases expiring at one
 *                                                 instant (a clock shifted to 3 s before it)
 *   npx tsx bench/scale-open.ts points - [runs]   the scale case's three RSS points of a real
 *                                                 daemon (at ready, after 5 list pages, after
 *                                                 10,000 leases expire at once) and the peak of
 *                                                 each; a fresh data dir each run (the generator)
 */
const [mode, dir, arg] = process.argv.slice(2);
if (!mode || !dir) throw new Error('usage: scale-open.ts make|daemon|inproc|expiry|points DIR [N|runs]');

const mb = (bytes: number) => Math.round(bytes / 1048576);

function copyOf(src: string) {
  const place = tempPlace('bella-scale-open');
  execFileSync('cp', ['-a', src, place.home]);
  return place;
}

async function make(): Promise<void> {
  const total = Number(arg ?? 100_000);
  fs.mkdirSync(path.dirname(dir!), { recursive: true });
  const expiring = Number(process.env.EXPIRING ?? 0);
  const { expireAt } = await generate(dir!, total, expiring, 0);
  if (expiring) fs.writeFileSync(`${dir}.json`, JSON.stringify({ expireAt, expiring }));
  process.stdout.write(`${total} leases written to ${dir}\n`);
}

async function daemon(): Promise<void> {
  ensureDaemonBuilt();
  for (let run = 0; run < Number(arg ?? 1); run++) {
    const place = copyOf(dir!);
    try {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const { daemon } = await benchDaemon('scale-open', place);
      const coldStart = performance.now() - t0;
      const atReady = daemon.rssMb();
      for (let i = 0; i < 5; i++) await daemon.client.call('listLeases', {});
      const afterList = daemon.rssMb();
      const hwm = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${daemon.pid}/status`, 'utf8'))?.[1];
      const stat = fs.readFileSync(`/proc/${daemon.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      const ticks = Number(stat[11]) + Number(stat[12]);
      await daemon.stop();
      void cpu0;
      // Lines a temporary start-up trace wrote to the daemon's stderr, if any.
      const trace = fs
        .readFileSync(place.logFile, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('TRACE '));
      if (trace.length) process.stdout.write(`${trace.join('\n')}\n`);
      process.stdout.write(
        `cold start ${Math.round(coldStart)} ms; daemon CPU ${ticks * 10} ms; RSS at ready ${atReady} MB, after list ${afterList} MB, peak ${Math.round(Number(hwm) / 1024)} MB\n`,
      );
    } finally {
      place.cleanup();
    }
  }
}

async function inproc(expiry = false): Promise<void> {
  const place = copyOf(dir!);
  const meta = expiry
    ? (JSON.parse(fs.readFileSync(`${dir}.json`, 'utf8')) as { expireAt: number; expiring: number })
    : null;
  // The data dir's clock: 3 s before its leases expire together (the store's clock never runs back).
  const shift = meta ? meta.expireAt - 3000 - Date.now() : 0;
  const clock = () => Date.now() + shift;
  try {
    const steps: Array<[string, number, number, number, number, number]> = [];
    // Peak RSS since the last step (VmHWM, reset at each step through /proc/self/clear_refs).
    const peak = () =>
      Math.round(Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024);
    const resetPeak = () => fs.writeFileSync('/proc/self/clear_refs', '5');
    let cpu = process.cpuUsage();
    const step = <T>(name: string, value: T): T => {
      const used = process.cpuUsage(cpu);
      cpu = process.cpuUsage();
      const m = process.memoryUsage();
      steps.push([
        name,
        Math.round((used.user + used.system) / 1000),
        mb(m.heapUsed),
        mb(m.rss),
        mb(m.heapTotal),
        peak(),
      ]);
      resetPeak();
      return value;
    };
    step('before', null);
    const store = step('Store.open', await Store.open(place.home, { time: { wall: clock, monotonic: clock } }));
    const services = step(
      'createServices',
      createServices(
        { store, events: new EventBus(), log: () => undefined },
        createDesktopNotifier({ log: () => undefined, env: { PATH: '' } }),
        { retentionMs: 30 * 86_400_000, backupsKept: 1 },
      ),
    );
    step('lifecycle.start', await services.lifecycle.start());
    globalThis.gc?.();
    step('after gc', null);
    if (meta) {
      // Counted through the table's scan: building the leases would itself fill the young generation.
      const active = () => services.lifecycle.activeCounts().get('scale/prod') ?? 0;
      const before = active();
      while (clock() < meta.expireAt + 500 || services.lifecycle.scheduler.next()!.at <= clock()) await sleep(50);
      while (active() > before - meta.expiring) await sleep(50);
      step('10k expired', null);
      globalThis.gc?.();
      step('after gc', null);
      if (process.env.HEAP_SNAPSHOT)
        process.stdout.write(`heap snapshot ${v8.writeHeapSnapshot(process.env.HEAP_SNAPSHOT)}\n`);
    }
    for (const [name, ms, heap, rss, total, hwm] of steps) {
      process.stdout.write(
        `${name.padEnd(16)} cpu ${String(ms).padStart(5)} ms  heap used ${heap} of ${total} MB  rss ${rss} MB (peak ${hwm})\n`,
      );
    }
    process.stdout.write(`pid rss ${rssMb(process.pid)} MB; leases ${store.state.leases.size}\n`);
    services.lifecycle.stop();
    await store.close();
  } finally {
    place.cleanup();
  }
}

async function points(): Promise<void> {
  ensureDaemonBuilt();
  for (let run = 0; run < Number(arg ?? 1); run++) {
    const place = tempPlace('bella-scale-points');
    try {
      const { expireAt, ids } = await generate(place.home, 100_000, 10_000, 20_000);
      const { daemon } = await benchDaemon('scale-points', place);
      // Peak RSS since the last point: VmHWM, reset through /proc/<pid>/clear_refs.
      const peak = () => {
        const kb = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${daemon.pid}/status`, 'utf8'))?.[1];
        fs.writeFileSync(`/proc/${daemon.pid}/clear_refs`, '5');
        return Math.round(Number(kb) / 1024);
      };
      const expired = new Set<string>();
      const stop = await daemon.client.subscribe((event: DaemonEvent) => {
        if (event.type === 'LeaseExpired') for (const id of event.leaseIds) if (ids.has(id)) expired.add(id);
      });
      await daemon.client.call('status', {});
      const out = [`ready ${daemon.rssMb()} (peak ${peak()})`];
      for (let i = 0; i < 5; i++) await daemon.client.call('listLeases', {});
      out.push(`after 5 pages ${daemon.rssMb()} (peak ${peak()})`);
      await sleep(Math.max(0, expireAt - Date.now()));
      await waitFor(() => expired.size === ids.size, 15_000);
      out.push(`after ${expired.size} expired ${daemon.rssMb()} (peak ${peak()})`);
      stop();
      await daemon.stop();
      process.stdout.write(`RSS MB: ${out.join('; ')}\n`);
    } finally {
      place.cleanup();
    }
  }
}

const modes: Record<string, () => Promise<void>> = { make, daemon, inproc, expiry: () => inproc(true), points };
await modes[mode]!();
