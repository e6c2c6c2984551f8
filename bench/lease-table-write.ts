import { randomBytes } from 'node:crypto';
import { toColumns } from '../daemon/store/lease-columns';
import { LeaseTable } from '../daemon/store/lease-memory';
import { shardBytes } from '../daemon/store/lease-table';
import { variedLease } from '../test/helpers/leases';
import { round } from './lib';

/**
 * CPU ms to encode one lease table file of `rows` leases as the issue case leaves them (one
 * project, environment and scope, hashToken's token hashes, a short reason), the two ways a
 * compaction can: straight from the table's columns (`takeColumns`) and through a lease object
 * per row (`toColumns` of `takeRows`); then the file's header, CRC-32s and keyed MAC
 * (`shardBytes`), the same for both. Minimum of `repeats` each, alternated, in this process.
 * Usage: npx tsx bench/lease-table-write.ts [rows] [repeats]
 */
function main(): void {
  const rows = Number(process.argv[2] ?? 16_384);
  const repeats = Number(process.argv[3] ?? 9);
  const table = new LeaseTable();
  const now = Date.now();
  const base = variedLease(1, { project: 'bench', environment: 'prod', scope: ['API_KEY'], reason: 'bench issue' });
  for (let i = 0; i < rows; i++) {
    const id = randomBytes(8).toString('hex');
    const tokenHash = randomBytes(32).toString('base64url');
    table.set(id, { ...base, id, issuedAt: now + i, expiresAt: now + i + 86_400_000, tokenHash });
  }
  const key = randomBytes(32);
  const cpuMs = (work: () => void) => {
    const before = process.cpuUsage();
    work();
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1000;
  };
  const times = { columns: [] as number[], objects: [] as number[], seal: [] as number[] };
  for (let i = 0; i < repeats; i++) {
    times.columns.push(cpuMs(() => table.takeColumns(0, rows)));
    times.objects.push(cpuMs(() => toColumns(table.takeRows(0, rows))));
    const { count, columns } = table.takeColumns(0, rows);
    times.seal.push(cpuMs(() => shardBytes(columns, count, key)));
  }
  const min = (a: number[]) => round(Math.min(...a), 2);
  console.log(
    JSON.stringify({
      rows,
      from_columns_ms: min(times.columns),
      through_objects_ms: min(times.objects),
      header_crc_mac_ms: min(times.seal),
    }),
  );
}

main();
