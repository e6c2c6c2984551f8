import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { dataFiles, deriveKeys, loadMasterKey } from '../daemon/store';
import type { VerifyResult } from '../daemon/store/audit/verify';
import { VERIFY_WORKER_LIMITS } from '../daemon/store/audit/verify';
import { keptTrail } from './cases/audit';

/**
 * The RSS a verification adds to its process, and its CPU per entry: verifyTrail bundled as the
 * daemon bundles its worker, run in a worker thread with the daemon's limits, the process's RSS
 * sampled every 20 ms. The trail is the one bench/verify-profile.ts keeps (written once):
 *   npx tsx bench/verify-rss.ts 1000000
 */
async function main(): Promise<void> {
  const entries = Number(process.argv[2] ?? 1_000_000);
  const home = await keptTrail(entries);
  const files = dataFiles(home);
  const keys = deriveKeys(await loadMasterKey(files.masterKey, false));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-verify-rss-'));
  try {
    const script = path.join(out, 'verify.mjs');
    await build({
      entryPoints: [fileURLToPath(new URL('./verify-rss-worker.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      packages: 'external',
      logLevel: 'warning',
      outfile: script,
    });
    const rss = () => process.memoryUsage().rss / 2 ** 20;
    const before = rss();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rss())), 20);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const figures = await new Promise<{ result: VerifyResult } & Record<string, number>>((resolve, reject) => {
      const worker = new Worker(script, {
        workerData: { dir: files.audit, key: keys.logKey.toString('base64'), head: { seq: 0, check: '' } },
        resourceLimits: VERIFY_WORKER_LIMITS,
      });
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    clearInterval(sampler);
    const cpu = process.cpuUsage(cpu0);
    const { result, ...worker } = figures;
    console.log(
      JSON.stringify({
        entries: result.entries,
        ok: result.ok,
        rss_before_mb: Math.round(before),
        rss_peak_mb: Math.round(peak),
        added_mb: Math.round(peak - before),
        ...worker,
        verify_ms: Math.round(performance.now() - t0),
        cpu_us_per_entry: Math.round(((cpu.user + cpu.system) / result.entries) * 100) / 100,
      }),
    );
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

await main();
