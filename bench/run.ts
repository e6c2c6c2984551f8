import fs from 'node:fs';
import path from 'node:path';
import { ensureDaemonBuilt, repoRoot } from '../test/helpers/daemon';
import { cliCase, type CliResult } from './cases/cli';
import { expiryCase, type ExpiryResult } from './cases/expiry';
import { issueCase, type IssueResult } from './cases/issue';
import { readsCase, type ReadsResult } from './cases/reads';
import { scaleCase, type ScaleResult } from './cases/scale';
import { machine } from './lib';

/** What bench/results/latest.json holds: the figures of the issue, plus the machine. */
export interface BenchResults {
  reads: ReadsResult;
  issue: IssueResult;
  scale: ScaleResult;
  expiry: ExpiryResult;
  cli: CliResult;
  machine: ReturnType<typeof machine> & { date: string; totalSeconds: number; loadavgAtStart: number };
}

const GOALS: Array<[string, string, (r: BenchResults) => number | null, (v: number) => boolean]> = [
  ['reads ratio to bare server', '≥ 0.5', (r) => r.reads.ratio, (v) => v >= 0.5],
  ['reads p99 ms', '≤ 5', (r) => r.reads.p99_ms, (v) => v <= 5],
  ['issue leases/s', '≥ 2000', (r) => r.issue.leases_per_s, (v) => v >= 2000],
  ['issue p99 ms', '≤ 100', (r) => r.issue.p99_ms, (v) => v <= 100],
  ['scale cold start ms', '≤ 1000', (r) => r.scale.cold_start_ms, (v) => v <= 1000],
  ['scale RSS MB', '≤ 250', (r) => r.scale.rss_mb, (v) => v <= 250],
  ['scale list first page ms', '≤ 50', (r) => r.scale.list_page_ms, (v) => v <= 50],
  ['scale 10k expiring, ms', '≤ 1000', (r) => r.scale.expire_10k_ms, (v) => v <= 1000],
  ['expiry late accepts', '= 0', (r) => r.expiry.late_accepts, (v) => v === 0],
  ['expiry max event lateness ms', '≤ 1000', (r) => r.expiry.max_event_lateness_ms, (v) => v <= 1000],
  ['cli ratio to node -e 0', '≤ 2', (r) => r.cli.ratio, (v) => v <= 2],
];

function pick<T extends object>(value: T, keys: Array<keyof T>): T {
  return Object.fromEntries(keys.map((k) => [k, value[k]])) as T;
}

async function main(): Promise<void> {
  const quick = process.env.BENCH_QUICK === '1';
  const started = Date.now();
  const loadavgAtStart = machine().loadavg;
  ensureDaemonBuilt();
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    process.stderr.write(`bench: ${name}…\n`);
    const t = Date.now();
    const out = await fn();
    process.stderr.write(`bench: ${name} done in ${((Date.now() - t) / 1000).toFixed(1)} s ${JSON.stringify(out)}\n`);
    return out;
  };
  const only = process.env.BENCH_ONLY?.split(',');
  if (only) {
    // Profiling runs: just the named cases, printed, latest.json left alone.
    const cases: Record<string, () => Promise<unknown>> = {
      reads: () => readsCase(quick ? 3 : 10),
      issue: () => issueCase(quick ? 3 : 10, quick ? 2000 : 10_000),
      scale: () => (quick ? scaleCase(20_000, 2_000) : scaleCase()),
      expiry: () => expiryCase(quick ? 200 : 1000),
      cli: () => cliCase(quick ? 3 : 10),
    };
    for (const name of only) await step(name, cases[name]!);
    return;
  }
  const reads = await step('reads', () => readsCase(quick ? 3 : 10));
  const issue = await step('issue', () => issueCase(quick ? 3 : 10, quick ? 2000 : 10_000));
  const scale = await step('scale', () => (quick ? scaleCase(20_000, 2_000) : scaleCase()));
  const expiry = await step('expiry', () => expiryCase(quick ? 200 : 1000));
  const cli = await step('cli', () => cliCase(quick ? 3 : 10));
  const results: BenchResults = {
    reads: pick(reads, ['bella_rps', 'baseline_rps', 'ratio', 'p50_ms', 'p99_ms', 'connections']),
    issue: pick(issue, ['leases_per_s', 'p99_ms', 'active_leases', 'concurrency']),
    scale: pick(scale, ['active_leases', 'cold_start_ms', 'rss_mb', 'list_page_ms', 'expire_10k_ms']),
    expiry: pick(expiry, ['leases', 'late_accepts', 'max_event_lateness_ms']),
    cli: pick(cli, ['bella_ms', 'node_ms', 'ratio']),
    machine: {
      ...machine(),
      date: new Date().toISOString(),
      totalSeconds: Math.round((Date.now() - started) / 1000),
      loadavgAtStart,
    },
  };
  const rows = GOALS.map(([name, goal, get, ok]) => {
    const v = get(results);
    return {
      check: name,
      value: v === null ? 'n/a (no events)' : v,
      goal,
      met: v === null ? '—' : ok(v) ? 'yes' : 'NO',
    };
  });
  console.table(rows);
  console.log(JSON.stringify(results, null, 2));
  const dir = path.join(repoRoot, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, quick ? 'quick.json' : 'latest.json'), JSON.stringify(results, null, 2) + '\n');
}

await main();
