import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BellaError, type ErrorCode } from '../../api/errors';
import type { LogFormat } from '../record-frame';
import { fromData, type ScannedSegment, type ScannedSegmentData } from './segment-scan';

// The audit trail's active segment scanned in a worker thread at start, so that its HMAC chain and
// the lease table's files are checked on the two cores at once (docs/decisions.md, "Cold start,
// fourth round (cold4)"). The worker only reads; every refusal it finds is thrown here, as the
// same error a scan in this thread throws.

/** What the worker is given. */
export interface ScanRequest {
  file: string;
  firstSeq: number;
  /** The trail's HMAC key (a copy; the worker makes its own key object). */
  key: Uint8Array;
  advice: string;
}

/** What the worker posts: the scan, or the error that refused it. */
export type ScanReply =
  | { ok: ScannedSegmentData }
  | {
      error:
        | { bella: true; code: ErrorCode; message: string; details: unknown }
        | { bella: false; message: string; errno?: string };
    };

/** A scan under way in a worker. */
export interface PendingScan {
  file: string;
  /**
   * The scan, with its entries after `keepAfter` read back; rejects with the scan's refusal;
   * null when the worker itself failed (the caller then scans in its own thread).
   */
  result(keepAfter: number): Promise<ScannedSegment | null>;
  /** Stops the worker (start-up failed before its result was needed). */
  cancel(): void;
}

/** Below this many bytes of segment, or of lease table, a worker's own start costs more than it saves. */
export const WORKER_MIN_BYTES = 1 << 20;

/**
 * The worker heap: a scan keeps the index's rows and the distinct hashes, and makes short-lived
 * garbage (each entry parsed and dropped); small limits keep the daemon's RSS down meanwhile.
 */
const SCAN_WORKER_LIMITS = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 32 };

/** The worker script, built next to the daemon's bundle (scripts/build-daemon.ts). */
const WORKER = new URL('./audit-scan.cjs', import.meta.url);

/**
 * Starts scanning `file` (the trail's newest segment, first entry `firstSeq`, keyed hashes with
 * `key`) in a worker, or returns null when there is no worker script (run from the sources).
 */
export function scanInWorker(
  file: string,
  firstSeq: number,
  key: Buffer,
  advice: string,
  log: (message: string) => void,
  script = fileURLToPath(WORKER),
): PendingScan | null {
  if (!fs.existsSync(script)) return null;
  const format: LogFormat = { check: 'hmac' };
  const request: ScanRequest = { file, firstSeq, key: new Uint8Array(key), advice };
  const worker = new Worker(script, { workerData: request, resourceLimits: SCAN_WORKER_LIMITS });
  // Once it answered or was stopped, the worker's exit is how it ends, not a failure.
  let ended = false;
  const reply = new Promise<ScannedSegmentData | null>((resolve, reject) => {
    worker.once('message', (message: ScanReply) => {
      ended = true;
      if ('ok' in message) resolve(message.ok);
      else reject(replyError(message.error));
    });
    // The worker itself lost (out of memory, killed): not a finding about the segment.
    const lost = (why: string) => {
      if (ended) return;
      log(`audit: the start-up scan worker failed (${why}); ${file} is scanned in the daemon's thread`);
      resolve(null);
    };
    worker.once('error', (err) => lost(err.message));
    worker.once('exit', (code) => lost(`it exited with code ${code} before it answered`));
  });
  // Handled here too: start-up may fail (a damaged lease table) before the reply is awaited.
  reply.catch(() => undefined);
  return {
    file,
    result: async (keepAfter) => {
      const data = await reply;
      if (!data) return null;
      log(`audit: ${file} was checked in a worker thread while the lease table was read`);
      return fromData(data, format, advice, keepAfter);
    },
    cancel: () => {
      ended = true;
      void worker.terminate();
    },
  };
}

function replyError(error: Extract<ScanReply, { error: unknown }>['error']): Error {
  if (error.bella) return new BellaError(error.code, error.message, error.details);
  return Object.assign(new Error(error.message), error.errno ? { code: error.errno } : {});
}
