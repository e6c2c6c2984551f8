import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as real from 'zod';
import { afterAll, describe, expect, it, vi } from 'vitest';

// Counts the zod schemas built, to see that reading a snapshot (every daemon's start) builds none
// unless its header names the lease table (issue 21, an empty daemon's RSS).
const built = vi.hoisted(() => ({ schemas: 0 }));
vi.mock('zod', async (importOriginal) => {
  const z = await importOriginal<typeof real>();
  const counted = <F extends (...args: never[]) => unknown>(f: F) =>
    ((...args: Parameters<F>) => {
      built.schemas++;
      return f(...args);
    }) as F;
  return {
    ...z,
    object: counted(z.object),
    strictObject: counted(z.strictObject),
    array: counted(z.array),
    number: counted(z.number),
    string: counted(z.string),
  };
});

const { readSnapshot, writeSnapshot } = await import('./snapshot');
const { emptyState } = await import('./schema');

describe('reading a snapshot', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-snapshot-read-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const key = randomBytes(32);
  const meta = { journalSeq: 3, audit: { seq: 9, check: 'ab'.repeat(32) }, clock: 1_764_000_000_000 };

  it('builds no schema for a header without the lease table, and gives its meta', async () => {
    const file = path.join(dir, 'inline.snapshot');
    await writeSnapshot(file, emptyState(), meta, key);
    const before = built.schemas;
    const read = readSnapshot(file, key, 'restore a backup');
    expect(built.schemas).toBe(before);
    expect(read.meta).toStrictEqual(meta);
    expect(read.leaseShards).toBeNull();
  });

  it('checks the lease table refs a header names with their schema', async () => {
    const file = path.join(dir, 'shards.snapshot');
    const shard = { file: `1-${'0a'.repeat(6)}-0.leases`, leases: 2, mac: 'cd'.repeat(32) };
    await writeSnapshot(file, emptyState(), meta, key, [shard]);
    const before = built.schemas;
    const read = readSnapshot(file, key, 'restore a backup');
    expect(built.schemas).toBeGreaterThan(before);
    expect(read.leaseShards).toStrictEqual([shard]);
    expect(read.meta).toStrictEqual(meta);
  });

  it('refuses a header naming the lease table wrongly (sealed by bella, so only a bug writes one)', async () => {
    const file = path.join(dir, 'bad-shards.snapshot');
    await writeSnapshot(file, emptyState(), meta, key, [{ file: '../escape', leases: -1, mac: 'x' }]);
    expect(() => readSnapshot(file, key, 'restore a backup')).toThrow(/its header names the lease table wrongly/);
  });

  it('refuses a header whose meta is not valid', async () => {
    const file = path.join(dir, 'bad-meta.snapshot');
    await writeSnapshot(file, emptyState(), { ...meta, journalSeq: -1 }, key);
    expect(() => readSnapshot(file, key, 'restore a backup')).toThrow(/its header is not a valid snapshot header/);
  });
});
