import { hash } from 'node:crypto';
import fs from 'node:fs';
import { ChunkReader } from '../log-scan';
import { frameHeaderBytes, GENESIS_CHECK, isFrameHeader, LEN_DIGITS } from '../record-frame';
import type { AuditHead } from '../snapshot';
import { seqOf } from './entry';

/** What a whole, regular segment holds: its header's link, and how its chain ends. */
export interface SegmentSummary {
  /** The header's `baseSeq` and `base`: the entry and check this segment continues from. */
  baseSeq: unknown;
  base: unknown;
  lastSeq: number;
  lastCheck: string;
  entries: number;
  /** The segment holds `head` (the daemon's last entry) with its check. */
  headSeen: boolean;
  /** The first entry that records missing entries, if any. */
  gap: { seq: number; offset: number; reason: string } | null;
}

type SegmentHeader = { baseSeq?: unknown; base?: unknown };

const HEADER = frameHeaderBytes('hmac');
const GAP_EVENT = Buffer.from('"event":"AuditEntriesMissing"');

/**
 * HMAC-SHA256 over raw bytes, from two one-shot hashes of reused buffers (RFC 2104): no HMAC
 * object, no strings per record. `inner` holds the key's inner pad, then the previous check
 * (64 hex bytes), then the payload; `outer` the outer pad, then the inner hash.
 */
class ChainMac {
  private inner = Buffer.alloc(64 + 64 + 4096);
  private readonly outer = Buffer.alloc(64 + 32);

  constructor(key: Buffer) {
    const k = key.length > 64 ? hash('sha256', key, 'buffer') : key;
    this.inner.fill(0x36, 0, 64);
    this.outer.fill(0x5c, 0, 64);
    for (let i = 0; i < k.length; i++) {
      this.inner[i]! ^= k[i]!;
      this.outer[i]! ^= k[i]!;
    }
  }

  /** Sets the previous check (64 hex bytes from `src` at `at`). */
  setPrev(src: Buffer, at: number): void {
    src.copy(this.inner, 64, at, at + 64);
  }

  /** The MAC of the previous check and `src[from, to)`, compared in constant time with the hex at `src[hexAt]`. */
  matches(src: Buffer, from: number, to: number, hexAt: number): boolean {
    const need = 128 + to - from;
    if (need > this.inner.length) {
      const bigger = Buffer.alloc(Math.max(need, 2 * this.inner.length));
      this.inner.copy(bigger, 0, 0, 128);
      this.inner = bigger;
    }
    src.copy(this.inner, 128, from, to);
    // Strings, not buffers: no native allocation per record (millions of small ones grew the RSS).
    this.outer.write(hash('sha256', this.inner.subarray(0, need), 'binary'), 64, 'latin1');
    const mac = hash('sha256', this.outer, 'hex');
    let diff = 0;
    for (let i = 0; i < 64; i++) diff |= mac.charCodeAt(i) ^ src[hexAt + i]!;
    return diff === 0;
  }
}

/** The value of a lowercase hex digit (the frame header was checked to hold only those). */
function hexValue(c: number): number {
  return c <= 0x39 ? c - 0x30 : c - 0x57;
}

/**
 * Checks audit segments the fast way: every frame's keyed hash chained from the header's base,
 * sequence numbers one after another from the header's `baseSeq`, the head's check where the
 * head is. One MAC and one read buffer serve every segment, so nothing is allocated per segment
 * or per record but short strings and views.
 */
export class SegmentChecker {
  private readonly mac: ChainMac;
  private readonly buf = Buffer.allocUnsafe(1 << 20);

  constructor(
    key: Buffer,
    private readonly head: AuditHead,
  ) {
    this.mac = new ChainMac(key);
  }

  /**
   * What `file` holds, or null at anything irregular — a frame that is not whole, a check or
   * sequence that does not follow, a torn tail, a last frame without its newline, an unreadable
   * header — so the caller checks that segment the thorough way, which names the damage.
   */
  check(file: string): SegmentSummary | null {
    const fd = fs.openSync(file, 'r');
    try {
      return this.checkOpen(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  private checkOpen(fd: number): SegmentSummary | null {
    const { mac, head } = this;
    const size = fs.fstatSync(fd).size;
    const reader = new ChunkReader(fd, size, this.buf);
    let offset = 0;
    let header: SegmentHeader | null = null;
    let expected = 0;
    let entries = 0;
    let headSeen = false;
    let gap: SegmentSummary['gap'] = null;
    let lastCheck = '';
    while (offset < size) {
      const head8 = reader.slice(offset, HEADER);
      if (!isFrameHeader(head8, 'hmac')) return null;
      let length = 0;
      for (let i = 0; i < LEN_DIGITS; i++) length = length * 16 + hexValue(head8[i]!);
      // The frame and its newline; a last frame without one is left to the thorough check.
      const frameBytes = HEADER + length + 1;
      if (offset + frameBytes > size) return null;
      const frame = reader.slice(offset, frameBytes);
      if (frame[frameBytes - 1] !== 0x0a) return null;
      if (header === null) {
        try {
          header = JSON.parse(frame.toString('utf8', HEADER, HEADER + length)) as SegmentHeader;
        } catch {
          return null;
        }
        if (typeof header!.baseSeq !== 'number') return null;
        const base =
          typeof header!.base === 'string' && /^[0-9a-f]{64}$/.test(header!.base) ? header!.base : GENESIS_CHECK;
        mac.setPrev(Buffer.from(base, 'latin1'), 0);
        expected = header!.baseSeq + 1;
      }
      if (!mac.matches(frame, HEADER, HEADER + length, LEN_DIGITS + 1)) return null;
      mac.setPrev(frame, LEN_DIGITS + 1);
      if (offset > 0) {
        const seq = seqOf(frame, HEADER, HEADER + length);
        if (seq !== expected) return null;
        if (seq === head.seq) {
          if (frame.toString('latin1', LEN_DIGITS + 1, HEADER - 1) !== head.check) return null;
          headSeen = true;
        }
        if (!gap && frame.subarray(HEADER, HEADER + length).includes(GAP_EVENT)) {
          const entry = JSON.parse(frame.toString('utf8', HEADER, HEADER + length)) as { message?: string };
          gap = { seq, offset, reason: entry.message ?? 'entries are missing' };
        }
        expected++;
        entries++;
        if (offset + frameBytes === size) lastCheck = frame.toString('latin1', LEN_DIGITS + 1, HEADER - 1);
      }
      offset += frameBytes;
    }
    if (header === null) return null;
    return {
      baseSeq: header.baseSeq,
      base: header.base,
      lastSeq: expected - 1,
      // A segment without entries continues the chain of the one before it.
      lastCheck: entries ? lastCheck : String(header.base),
      entries,
      headSeen,
      gap,
    };
  }
}
