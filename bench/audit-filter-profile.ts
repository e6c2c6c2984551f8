import { createSecretKey } from 'node:crypto';
import { dataFiles, deriveKeys, loadMasterKey } from '../daemon/store';
import { AuditTrail } from '../daemon/store/audit/trail';
import { keptTrail } from './cases/audit';

/**
 * Times `audit list --lease T` (the audit case's target lease) in this thread, on a trail of
 * `entries` written by the real Store and kept in a temp dir between runs (shared with
 * bench/verify-profile.ts):
 *   npx tsx bench/audit-filter-profile.ts 1000000
 */
async function main(): Promise<void> {
  const entries = Number(process.argv[2] ?? 1_000_000);
  const home = await keptTrail(entries);
  const files = dataFiles(home);
  const keys = deriveKeys(await loadMasterKey(files.masterKey, false));
  const format = { check: 'hmac' as const, key: createSecretKey(keys.logKey) };
  const advice = 'bench';
  const trail = await AuditTrail.open(AuditTrail.read(files.audit, format, advice), format, advice);
  try {
    const issued = trail.query({ event: 'LeaseIssued' }, 10_000).entries;
    const target = issued.find((e) => e.reason === 'bench audit target (T)');
    if (!target?.leaseId) throw new Error('no target lease T in this trail');
    const times: number[] = [];
    let found = 0;
    for (let i = 0; i < 7; i++) {
      const t = performance.now();
      found = trail.query({ lease: target.leaseId }, 100).entries.length;
      times.push(performance.now() - t);
    }
    const stats = trail.filterStats({ lease: target.leaseId });
    times.sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        entries: trail.head.seq,
        found,
        lease_filter_ms: Math.round(times[3]! * 10) / 10,
        min_ms: Math.round(times[0]! * 10) / 10,
        ...stats,
      }),
    );
  } finally {
    trail.close();
  }
}

await main();
