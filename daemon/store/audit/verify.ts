import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { isBellaError } from '../../api';
import { scanLog } from '../log-scan';
import { GENESIS_CHECK, type LogFormat } from '../record-frame';
import type { AuditHead } from '../snapshot';
import { seqOf } from './entry';

/** What `bella audit verify` reports. */
export interface VerifyResult {
  ok: boolean;
  /** Entries checked. */
  entries: number;
  firstBroken: { seq: number | null; file: string; offset: number; reason: string } | null;
}

const GAP_EVENT = Buffer.from('"event":"AuditEntriesMissing"');

/**
 * Checks the whole trail, streaming (bounded memory): every entry's keyed hash and its link to
 * the one before, sequence numbers without holes, each segment continuing the previous one, and
 * that the trail still holds `head` (the last entry the daemon wrote) — so deleted newest entries
 * or a swapped file are found, not only edits. Entries recorded as missing at start-up fail it.
 */
export function verifyTrail(dir: string, format: LogFormat, head: AuditHead): VerifyResult {
  const names = fs
    .readdirSync(dir)
    .filter((n) => /^\d{12}\.log$/.test(n))
    .sort();
  let lastSeq = 0;
  let lastCheck = GENESIS_CHECK;
  let entries = 0;
  let headSeen = head.seq === 0;
  let gap: VerifyResult['firstBroken'] = null;
  const broken = (file: string, offset: number, seq: number | null, reason: string): VerifyResult => ({
    ok: false,
    entries,
    firstBroken: { seq, file, offset, reason },
  });
  for (const name of names) {
    const file = path.join(dir, name);
    let problem: VerifyResult | null = null;
    try {
      scanLog(file, format, {
        advice: 'restore the audit trail from a backup',
        keep: false,
        visit: (record) => {
          if (problem) return;
          if (record.offset === 0) {
            const header = JSON.parse(record.payload.toString('utf8')) as { baseSeq?: number; base?: string };
            if (header.baseSeq !== lastSeq || header.base !== lastCheck) {
              problem = broken(
                file,
                0,
                lastSeq + 1,
                `this segment does not continue from entry ${lastSeq} (a segment before it was removed, replaced or reordered)`,
              );
            }
            return;
          }
          const seq = seqOf(record.payload);
          if (seq !== lastSeq + 1) {
            problem = broken(file, record.offset, seq, `entry ${seq} where ${lastSeq + 1} was expected`);
            return;
          }
          if (seq === head.seq) {
            if (record.check !== head.check) {
              problem = broken(
                file,
                record.offset,
                seq,
                'this entry is not the one the daemon wrote (the file was replaced)',
              );
              return;
            }
            headSeen = true;
          }
          if (!gap && record.payload.includes(GAP_EVENT)) {
            const entry = JSON.parse(record.payload.toString('utf8')) as { message?: string };
            gap = { seq, file, offset: record.offset, reason: entry.message ?? 'entries are missing' };
          }
          lastSeq = seq;
          lastCheck = record.check;
          entries++;
        },
      });
    } catch (err) {
      if (isBellaError(err) && err.details && typeof err.details === 'object') {
        const { offset } = err.details as { offset: number };
        const reason = err.message
          .replace(/^.* is damaged at byte \d+: /, '')
          .replace(/; bella changed nothing.*$/, '');
        return broken(file, offset, lastSeq + 1, reason);
      }
      throw err;
    }
    if (problem) return problem;
  }
  if (!headSeen) {
    return broken(
      names.length ? path.join(dir, names.at(-1)!) : dir,
      0,
      lastSeq + 1,
      `entries ${lastSeq + 1}–${head.seq} are missing: the trail ends at entry ${lastSeq} but the daemon wrote up to ${head.seq} (newest entries were deleted, or the file was replaced)`,
    );
  }
  if (gap) return { ok: false, entries, firstBroken: gap };
  return { ok: true, entries, firstBroken: null };
}

/** The worker that runs {@link verifyTrail} off the daemon's event loop (built next to dist/daemon.js). */
const WORKER = new URL('./audit-verify.js', import.meta.url);

/**
 * Runs {@link verifyTrail} in a worker thread, so token reads are served while a large trail is
 * verified. From the sources (tests of this module) it runs in this thread.
 */
export function verifyInWorker(dir: string, key: Buffer, head: AuditHead): Promise<VerifyResult> {
  const script = fileURLToPath(WORKER);
  if (!fs.existsSync(script)) return Promise.resolve(verifyTrail(dir, { check: 'hmac', key }, head));
  return new Promise((resolve, reject) => {
    const worker = new Worker(script, {
      workerData: { dir, key: key.toString('base64'), head },
      // Streaming keeps almost nothing alive, but V8 lets the old generation grow towards its limit
      // before collecting it: a small limit keeps the daemon's RSS down while a large trail is read.
      resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 24 },
    });
    worker.once('message', (result: VerifyResult) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the audit verification worker exited with code ${code}`));
    });
  });
}
