import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AuditHead } from '../snapshot';
import type { AuditInput } from './entry';
import { AuditTrail } from './trail';
import { verifyTrail } from './verify';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const format = { check: 'hmac' as const, key: Buffer.alloc(32, 3) };
const T0 = Date.UTC(2026, 11, 1);

function read(i: number): AuditInput {
  return { event: 'SecretsRead', outcome: 'Success', actor: 'token', project: 'p', leaseId: `lease${i % 5}` };
}

/** A trail of `count` entries in segments of about 2 KiB; its directory and head. */
async function trailOf(count: number, inputs = read): Promise<{ dir: string; head: AuditHead; files: string[] }> {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bella-verify-')), 'audit');
  dirs.push(path.dirname(dir));
  const trail = await AuditTrail.open(AuditTrail.read(dir, format, 'x'), format, 'x', 2048);
  for (let i = 0; i < count; i += 4) {
    await trail.write(
      trail.prepare(
        [0, 1, 2, 3].map((k) => inputs(i + k)),
        T0 + i,
      ),
    );
  }
  const head = trail.head;
  const files = trail.segmentFiles();
  trail.close();
  return { dir, head, files };
}

/** Byte offset of the frame of entry `seq` in `file`. */
function offsetOf(file: string, seq: number): number {
  const text = fs.readFileSync(file, 'latin1');
  const at = text.indexOf(`{"seq":${seq},`);
  return text.lastIndexOf('\n', at) + 1;
}

describe('audit verify', () => {
  it('a sound trail of many segments: every entry counted, the head found', async () => {
    const { dir, head, files } = await trailOf(400);
    expect(files.length).toBeGreaterThan(20);
    expect(verifyTrail(dir, format, head)).toEqual({ ok: true, entries: 400, firstBroken: null });
    // With the key as a KeyObject, as the worker has it.
    const { createSecretKey } = await import('node:crypto');
    expect(verifyTrail(dir, { check: 'hmac', key: createSecretKey(format.key) }, head).ok).toBe(true);
    // The wrong key: the first record already fails.
    const wrong = verifyTrail(dir, { check: 'hmac', key: Buffer.alloc(32, 4) }, head);
    expect(wrong.ok).toBe(false);
    expect(wrong.firstBroken).toMatchObject({ file: files[0], offset: 0, seq: 1 });
  });

  it('reads every segment through one buffer: memory does not grow with the number of segments or entries', async () => {
    const { dir, head, files } = await trailOf(400);
    const allocUnsafe = vi.spyOn(Buffer, 'allocUnsafe');
    const alloc = vi.spyOn(Buffer, 'alloc');
    expect(verifyTrail(dir, format, head).ok).toBe(true);
    const big = (spy: typeof alloc) => spy.mock.calls.filter(([size]) => size >= 1024).length;
    // One read buffer and one MAC buffer for the whole trail, not one per segment (or per entry).
    expect(files.length).toBeGreaterThan(20);
    expect(big(allocUnsafe) + big(alloc)).toBeLessThanOrEqual(2);
    // Nothing per entry through Buffer's allocators either.
    expect(allocUnsafe.mock.calls.length + alloc.mock.calls.length).toBeLessThan(files.length);
  });

  it('an edited entry is named by file, offset and sequence, as before', async () => {
    const { dir, head, files } = await trailOf(200);
    const file = files[5]!;
    const text = fs.readFileSync(file, 'latin1');
    const seq = Number(/"seq":(\d+),/.exec(text.slice(text.indexOf('\n') + 1))![1]) + 1;
    const at = offsetOf(file, seq);
    const edit = text.indexOf('"leaseId":"lease', at) + '"leaseId":"'.length;
    fs.writeFileSync(file, text.slice(0, edit) + 'L' + text.slice(edit + 1), 'latin1');
    const result = verifyTrail(dir, format, head);
    expect(result.ok).toBe(false);
    expect(result.firstBroken?.file).toBe(file);
    expect(result.firstBroken?.reason).toMatch(/does not match its keyed hash/);
    expect(result.firstBroken).toMatchObject({ offset: at, seq });
    expect(result.entries).toBe(seq - 1);
  });

  it('a segment removed from the middle, newest entries cut, and recorded gaps fail with their reasons', async () => {
    const { dir, head, files } = await trailOf(200);
    const cut = await trailOf(200);
    fs.rmSync(files[3]!);
    const removed = verifyTrail(dir, format, head);
    expect(removed.firstBroken).toMatchObject({ file: files[4], offset: 0 });
    expect(removed.firstBroken?.reason).toMatch(/does not continue from entry/);

    fs.rmSync(cut.files.at(-1)!);
    const truncated = verifyTrail(cut.dir, format, cut.head);
    expect(truncated.firstBroken?.reason).toMatch(
      /are missing: the trail ends at entry \d+ but the daemon wrote up to 200/,
    );

    const gaps = await trailOf(40, (i) =>
      i === 21
        ? { event: 'AuditEntriesMissing', outcome: 'Denied', actor: 'daemon', message: 'entries 7-9 were lost' }
        : read(i),
    );
    const gap = verifyTrail(gaps.dir, format, gaps.head);
    expect(gap).toMatchObject({ ok: false, entries: 40, firstBroken: { seq: 22, reason: 'entries 7-9 were lost' } });
  });

  it('a torn tail of the newest segment is not damage; the head must still be there', async () => {
    const { dir, head, files } = await trailOf(100);
    const last = files.at(-1)!;
    fs.appendFileSync(last, '0000012');
    expect(verifyTrail(dir, format, head)).toEqual({ ok: true, entries: 100, firstBroken: null });
    expect(verifyTrail(dir, format, { seq: head.seq, check: 'f'.repeat(64) }).firstBroken?.reason).toMatch(
      /not the one the daemon wrote/,
    );
  });
});
