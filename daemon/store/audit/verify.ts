import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { isBellaError } from '../../api/errors';
import { scanLog } from '../log-scan';
import { GENESIS_CHECK, type LogFormat } from '../record-frame';
import type { AuditHead } from '../snapshot';
import { seqOf } from './entry';
import { SegmentChecker } from './segment-verify';

/** What `bella audit verify` reports. */
export interface VerifyResult {
  ok: boolean;
  /** Entries checked. */
  entries: number;
  firstBroken: { seq: number | null; file: string; offset: number; reason: string } | null;
}

const GAP_EVENT = Buffer.from('"event":"AuditEntriesMissing"');

/** How far verification got: the chain so far, and the first recorded gap. */
interface Progress {
  lastSeq: number;
  lastCheck: string;
  entries: number;
  headSeen: boolean;
  gap: VerifyResult['firstBroken'];
}

/**
 * Checks the whole trail, streaming (bounded memory): every entry's keyed hash and its link to
 * the one before, sequence numbers without holes, each segment continuing the previous one, and
 * that the trail still holds `head` (the last entry the daemon wrote) — so deleted newest entries
 * or a swapped file are found, not only edits. Entries recorded as missing at start-up fail it.
 * Each segment is checked the fast way ({@link SegmentChecker}); one it finds irregular is checked
 * again the thorough way ({@link checkThoroughly}), which names what is wrong and where.
 */
export function verifyTrail(dir: string, format: LogFormat, head: AuditHead): VerifyResult {
  const names = fs
    .readdirSync(dir)
    .filter((n) => /^\d{12}\.log$/.test(n))
    .sort();
  const checker = new SegmentChecker(rawKey(format), head);
  const p: Progress = { lastSeq: 0, lastCheck: GENESIS_CHECK, entries: 0, headSeen: head.seq === 0, gap: null };
  for (const name of names) {
    const file = path.join(dir, name);
    const fast = checker.check(file);
    if (fast && fast.baseSeq === p.lastSeq && fast.base === p.lastCheck) {
      if (!p.gap && fast.gap) p.gap = { ...fast.gap, file };
      p.lastSeq = fast.lastSeq;
      p.lastCheck = fast.lastCheck;
      p.entries += fast.entries;
      p.headSeen ||= fast.headSeen;
      continue;
    }
    const problem = checkThoroughly(file, format, head, p);
    if (problem) return problem;
  }
  if (!p.headSeen) {
    return broken(
      p,
      names.length ? path.join(dir, names.at(-1)!) : dir,
      0,
      p.lastSeq + 1,
      `entries ${p.lastSeq + 1}–${head.seq} are missing: the trail ends at entry ${p.lastSeq} but the daemon wrote up to ${head.seq} (newest entries were deleted, or the file was replaced)`,
    );
  }
  if (p.gap) return { ok: false, entries: p.entries, firstBroken: p.gap };
  return { ok: true, entries: p.entries, firstBroken: null };
}

function broken(p: Progress, file: string, offset: number, seq: number | null, reason: string): VerifyResult {
  return { ok: false, entries: p.entries, firstBroken: { seq, file, offset, reason } };
}

/** The HMAC key as bytes. */
function rawKey(format: LogFormat): Buffer {
  if (format.check !== 'hmac' || !format.key) throw new Error('the audit trail is verified with its HMAC key');
  return Buffer.isBuffer(format.key) ? format.key : format.key.export();
}

/**
 * Checks one segment record by record through {@link scanLog}, continuing `p`: the problem
 * found (file, byte offset, entry, reason), or null when the segment is sound.
 */
function checkThoroughly(file: string, format: LogFormat, head: AuditHead, p: Progress): VerifyResult | null {
  let problem: VerifyResult | null = null;
  try {
    scanLog(file, format, {
      advice: 'restore the audit trail from a backup',
      keep: false,
      visit: (record) => {
        if (problem) return;
        if (record.offset === 0) {
          const header = JSON.parse(record.payload.toString('utf8')) as { baseSeq?: number; base?: string };
          if (header.baseSeq !== p.lastSeq || header.base !== p.lastCheck) {
            problem = broken(
              p,
              file,
              0,
              p.lastSeq + 1,
              `this segment does not continue from entry ${p.lastSeq} (a segment before it was removed, replaced or reordered)`,
            );
          }
          return;
        }
        const seq = seqOf(record.payload);
        if (seq !== p.lastSeq + 1) {
          problem = broken(p, file, record.offset, seq, `entry ${seq} where ${p.lastSeq + 1} was expected`);
          return;
        }
        if (seq === head.seq) {
          if (record.check !== head.check) {
            problem = broken(
              p,
              file,
              record.offset,
              seq,
              'this entry is not the one the daemon wrote (the file was replaced)',
            );
            return;
          }
          p.headSeen = true;
        }
        if (!p.gap && record.payload.includes(GAP_EVENT)) {
          const entry = JSON.parse(record.payload.toString('utf8')) as { message?: string };
          p.gap = { seq, file, offset: record.offset, reason: entry.message ?? 'entries are missing' };
        }
        p.lastSeq = seq;
        p.lastCheck = record.check;
        p.entries++;
      },
    });
  } catch (err) {
    if (isBellaError(err) && err.details && typeof err.details === 'object') {
      const { offset } = err.details as { offset: number };
      const reason = err.message.replace(/^.* is damaged at byte \d+: /, '').replace(/; bella changed nothing.*$/, '');
      return broken(p, file, offset, p.lastSeq + 1, reason);
    }
    throw err;
  }
  return problem;
}

/**
 * The verify worker's heap. Streaming keeps almost nothing alive, but V8 lets the old generation
 * grow towards its limit before collecting it: a small limit keeps the daemon's RSS down while a
 * large trail is read.
 */
export const VERIFY_WORKER_LIMITS = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 24 };

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
      resourceLimits: VERIFY_WORKER_LIMITS,
    });
    worker.once('message', (result: VerifyResult) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the audit verification worker exited with code ${code}`));
    });
  });
}
