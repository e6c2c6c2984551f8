import { createSecretKey } from 'node:crypto';
import v8 from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import type { AuditHead } from '../daemon/store/snapshot';
import { verifyTrail } from '../daemon/store/audit/verify';

// bench/verify-rss.ts's worker: daemon/store/audit/verify-worker.ts, plus the worker's own memory
// figures at the end.
const data = workerData as { dir: string; key: string; head: AuditHead };
const result = verifyTrail(
  data.dir,
  { check: 'hmac', key: createSecretKey(Buffer.from(data.key, 'base64')) },
  data.head,
);
const heap = v8.getHeapStatistics();
const mem = process.memoryUsage();
const mb = (n: number) => Math.round(n / 2 ** 20);
parentPort!.postMessage({
  result,
  worker_heap_mb: mb(heap.total_heap_size),
  worker_heap_used_mb: mb(heap.used_heap_size),
  worker_external_mb: mb(mem.external),
});
