import { createSecretKey } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { isBellaError } from '../../api/errors';
import { scanSegment, toData } from './segment-scan';
import type { ScanRequest, ScanReply } from './scan-in-worker';

// Entry of dist/audit-scan.js: scans the audit trail's active segment in a worker thread at start
// (while the daemon's thread reads the lease table) and posts what it found, or why it refused.
const request = workerData as ScanRequest;
let reply: ScanReply;
let transfer: ArrayBuffer[] = [];
try {
  const format = { check: 'hmac' as const, key: createSecretKey(Buffer.from(request.key)) };
  const scanned = toData(scanSegment(request.file, request.firstSeq, format, request.advice, Infinity));
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
