import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredEntry } from './entry';
import { compileFilter, SegmentIndex } from './segment-index';
import { AuditTrail } from './trail';
import { verifyTrail } from './verify';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-segment-index-'));
  dirs.push(dir);
  return dir;
}

const T0 = Date.UTC(2026, 11, 1);

function entry(seq: number, leaseId: string): StoredEntry {
  return {
    seq,
    ts: new Date(T0 + seq).toISOString(),
    event: 'SecretsRead',
    outcome: 'Success',
    actor: 'token',
    project: 'p',
    environment: 'e',
    leaseId,
    keys: ['K'],
  };
}

/** A lease id like bella's (16 random base-36 characters), from a counter. */
const leaseId = (i: number, salt = 'a') => `${salt}${i.toString(36).padStart(15, '0')}`;

/** About the entries of a full 8 MiB segment of reads (~230 bytes each). */
const FULL_SEGMENT = 36_000;

describe('segment index', () => {
  it('the lease filter of a full segment whose every entry names another lease stays selective', async () => {
    const index = new SegmentIndex(1);
    for (let i = 0; i < FULL_SEGMENT; i++) index.add(entry(i + 1, leaseId(i)), i * 230, 230);
    const file = path.join(tempDir(), '000000000001.idx');
    await index.seal(file);
    const loaded = SegmentIndex.load(file, 1, FULL_SEGMENT * 230)!;
    expect(loaded).not.toBeNull();
    // No false negatives: every lease the segment holds may match.
    for (let i = 0; i < FULL_SEGMENT; i += 7) expect(loaded.mayMatch(compileFilter({ lease: leaseId(i) }))).toBe(true);
    // Leases it does not hold: a segment is read for at most 1 in 100 of them (a 65,536-bit,
    // two-probe filter answered "maybe" for ~44 % of them, so nearly every segment was read).
    const others = 20_000;
    let falsePositives = 0;
    for (let i = 0; i < others; i++) {
      if (loaded.mayMatch(compileFilter({ lease: leaseId(i, 'z') }))) falsePositives++;
    }
    expect(falsePositives / others).toBeLessThan(0.01);
  });

  it("a sealed segment finds one lease's rows from its postings, newest first, as the active one does", async () => {
    const index = new SegmentIndex(101);
    const active = new SegmentIndex(101);
    for (let i = 0; i < 5_000; i++) {
      const e = entry(101 + i, leaseId(i % 37));
      index.add(e, i * 200, 200);
      active.add(e, i * 200, 200);
    }
    const file = path.join(tempDir(), '000000000101.idx');
    await index.seal(file);
    const sealed = SegmentIndex.load(file, 101, 5_000 * 200)!;
    for (const filter of [
      { lease: leaseId(5) },
      { lease: leaseId(36), since: T0 + 2_000 },
      { lease: leaseId(0), event: 'SecretsRead' },
      { lease: leaseId(99) },
    ]) {
      const f = compileFilter(filter);
      for (const before of [Infinity, 3_000]) {
        const want = [...active.candidates(f, before)];
        expect([...sealed.candidates(f, before)]).toEqual(want);
        expect([...index.candidates(f, before)]).toEqual(want);
      }
    }
    const rows = [...sealed.candidates(compileFilter({ lease: leaseId(5) }))];
    expect(rows).toHaveLength(Math.ceil((5_000 - 5) / 37));
    expect(rows.map((r) => r.seq)).toEqual([...rows.map((r) => r.seq)].sort((a, b) => b - a));
    expect(rows.every((r) => (r.seq - 101) % 37 === 5 && r.offset === (r.seq - 101) * 200)).toBe(true);
  });

  it('a trail written with index format 1 is read as it is (not rebuilt), queried and verified, and grows in format 2', async () => {
    const dir = path.join(tempDir(), 'audit');
    fs.cpSync(fileURLToPath(new URL('./fixtures/index-v1', import.meta.url)), dir, { recursive: true });
    const idx = fs.readdirSync(dir).filter((n) => n.endsWith('.idx'));
    const before = new Map(idx.map((n) => [n, fs.readFileSync(path.join(dir, n))]));
    expect([...before.values()].every((b) => b.toString('latin1', 0, 8) === 'BIDX0001')).toBe(true);
    const format = { check: 'hmac' as const, key: Buffer.alloc(32, 7) };
    const read = AuditTrail.read(dir, format, 'restore it');
    expect(read.sealed).toHaveLength(7);
    expect(read.sealed.every((s) => s.index !== null)).toBe(true);
    const trail = await AuditTrail.open(read, format, 'restore it', 4096);
    try {
      for (const n of idx) expect(fs.readFileSync(path.join(dir, n)).equals(before.get(n)!)).toBe(true);
      // The fixture's entry i (1-based) read lease `lease${(i - 1) % 7}`.
      const lease3 = trail.query({ lease: 'lease3' }, 100).entries.map((e) => e.seq);
      expect(lease3).toEqual(Array.from({ length: 17 }, (_, k) => 116 - 7 * k));
      expect(trail.filterStats({ lease: 'lease3' }).segments_read).toBe(8);
      const page = trail.query({ lease: 'lease3' }, 5, 60);
      expect(page.entries.map((e) => e.seq)).toEqual([53, 46, 39, 32, 25]);
      expect(page.nextCursor).toBe(25);
      // New entries fill and seal segments in format 2; queries span both formats.
      for (let i = 120; i < 200; i++) {
        await trail.write(
          trail.prepare(
            [{ event: 'SecretsRead', outcome: 'Success', actor: 'token', project: 'p', leaseId: `lease${i % 7}` }],
            T0 + i,
          ),
        );
      }
      const formats = fs
        .readdirSync(dir)
        .filter((n) => n.endsWith('.idx'))
        .map((n) => fs.readFileSync(path.join(dir, n)).toString('latin1', 0, 8));
      expect(formats.filter((m) => m === 'BIDX0002').length).toBeGreaterThanOrEqual(4);
      const all = trail.query({ lease: 'lease3' }, 1000).entries.map((e) => e.seq);
      expect(all).toEqual(Array.from({ length: 29 }, (_, k) => 200 - 7 * k));
      expect(verifyTrail(dir, format, trail.head)).toEqual({ ok: true, entries: 200, firstBroken: null });
    } finally {
      trail.close();
    }
  });

  it('an index file of an unknown format, or cut short, is not loaded (the trail rebuilds it)', async () => {
    const index = new SegmentIndex(1);
    for (let i = 0; i < 100; i++) index.add(entry(i + 1, leaseId(i)), i * 200, 200);
    const file = path.join(tempDir(), '000000000001.idx');
    await index.seal(file);
    const bytes = fs.readFileSync(file);
    expect(SegmentIndex.load(file, 1, 100 * 200)).not.toBeNull();
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 8));
    expect(SegmentIndex.load(file, 1, 100 * 200)).toBeNull();
    const other = Buffer.from(bytes);
    other.write('BIDX0009', 0, 'latin1');
    fs.writeFileSync(file, other);
    expect(SegmentIndex.load(file, 1, 100 * 200)).toBeNull();
  });
});
