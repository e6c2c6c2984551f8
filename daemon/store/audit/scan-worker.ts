import { createSecretKey } from 'node:crypto';
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { isBellaError } from '../../api/errors';
import { scanSegment, toData } from './segment-scan';
import type { ScanRequest, ScanReply } from './scan-in-worker';

// Entry of dist/audit-scan.cjs: scans the audit trail's active segment in a worker thread at start
// (while the daemon's thread reads the lease table) and posts what it found, or why it refused.
const request = workerData as ScanRequest;
/** Bytes of segment per entry assumed for the rows' first size (bella's entries are ~250–400). */
const ROW_ESTIMATE = 256;
let reply: ScanReply;
let transfer: ArrayBuffer[] = [];
try {
  const format = { check: 'hmac' as const, key: createSecretKey(Buffer.from(request.key)) };
  // Sized so that little of this thread's malloc arena is touched: it stays resident once the
  // thread is gone (a 1 MiB read buffer and the rows' doublings cost ~2 MB of the daemon's RSS).
  const sizing = { chunkBytes: 64 * 1024, rows: Math.ceil(fs.statSync(request.file).size / ROW_ESTIMATE) };
  const scanned = toData(scanSegment(request.file, request.firstSeq, format, request.advice, Infinity, sizing));
  reply = { ok: scanned.data };
  transfer = scanned.transfer;
} catch (err) {
  reply = isBellaError(err)
    ? { error: { bella: true, code: err.code, message: err.message, details: err.details } }
    : { error: { bella: false, message: err instanceof Error ? err.message : String(err), errno: errnoOf(err) } };
}
parentPort!.postMessage(reply, transfer);

function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
