import { createSecretKey } from 'node:crypto';
import fs from 'node:fs';
import { dataFiles, deriveKeys, loadMasterKey } from '../daemon/store';
import { verifyTrail } from '../daemon/store/audit/verify';
import { keptTrail } from './cases/audit';

/**
 * Times `verifyTrail` in this thread on a trail of `entries` written by the real Store (kept in
 * a temp dir between runs, so a second run only verifies). Run it under `node --cpu-prof` to see
 * where verification spends its time:
 *   npx tsx bench/verify-profile.ts 1000000            # generate (once) and verify
 *   node --cpu-prof --import tsx bench/verify-profile.ts 1000000
 */
async function main(): Promise<void> {
  const entries = Number(process.argv[2] ?? 1_000_000);
  const home = await keptTrail(entries);
  const files = dataFiles(home);
  const keys = deriveKeys(await loadMasterKey(files.masterKey, false));
  const trail = fs
    .readdirSync(files.audit)
    .filter((n) => n.endsWith('.log'))
    .sort();
  // The head is the last entry written: verification must find it.
  const head = { seq: 0, check: '' };
  // As the worker does (verify-worker.ts): the key as a KeyObject.
  const key = createSecretKey(keys.logKey);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = verifyTrail(files.audit, { check: 'hmac', key }, head);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(
    JSON.stringify({
      entries: result.entries,
      ok: result.ok,
      segments: trail.length,
      verify_ms: Math.round(ms),
      us_per_entry: Math.round(((ms * 1000) / result.entries) * 100) / 100,
      cpu_us_per_entry: Math.round(((cpuMs * 1000) / result.entries) * 100) / 100,
    }),
  );
}

await main();
