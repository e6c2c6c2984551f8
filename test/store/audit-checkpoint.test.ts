import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../daemon/store';
import { WORKER_MIN_BYTES } from '../../daemon/store/audit/scan-in-worker';
import type { StoreOptions } from '../../daemon/store/recovery';
import { readLog, seed, startIn, tempPlace, type DaemonPlace } from '../helpers/daemon';
import { newestAuditFile } from '../reliability/files';

// A clean close leaves the active audit segment's index and chain head as a checkpoint
// (audit/active.ckpt, MAC'd with the log key); the next start takes it as the index's prefix and
// checks only the frames after it (docs/decisions.md, "Cold start, seventh round (cold7)").

const places: DaemonPlace[] = [];
afterAll(() => {
  for (const p of places.splice(0)) p.cleanup();
});

const CONTINUED = /continued from its checkpoint at entry (\d+) \((\d+) entries after it checked\)/;
const NOT_USED = /active\.ckpt was not used \((.*)\); .* is scanned whole/;

function place(): DaemonPlace {
  const p = tempPlace('bella-ckpt');
  places.push(p);
  return p;
}

function checkpointOf(home: string): string {
  return path.join(home, 'audit', 'active.ckpt');
}

/** Opens the store in `home`, collecting what it logs. */
async function open(home: string, options: StoreOptions = {}): Promise<{ store: Store; logged: string[] }> {
  const logged: string[] = [];
  const store = await Store.open(home, { ...options, log: (m) => logged.push(m) });
  return { store, logged };
}

/** Records `n` audited reads, numbered from `from`. */
async function reads(store: Store, n: number, from = 0): Promise<void> {
  for (let i = 0; i < n; i++) {
    await store.record([{ event: 'SecretsRead', outcome: 'Success', actor: 'token', reason: `read ${from + i}` }]);
  }
}

/** Every entry's reason, oldest first. */
function reasons(store: Store): string[] {
  return store
    .queryAudit({}, 100_000)
    .entries.map((e) => e.reason ?? e.event)
    .reverse();
}

/** Changes one hex digit of the keyed hash written in the frame of the entry whose reason is `reason`. */
function tamperCheck(file: string, reason: string): void {
  const bytes = fs.readFileSync(file);
  const at = bytes.indexOf(`"reason":"${reason}"`);
  const lineStart = bytes.lastIndexOf(0x0a, at) + 1;
  const digit = lineStart + 9;
  bytes[digit] = bytes[digit] === 0x30 ? 0x31 : 0x30;
  fs.writeFileSync(file, bytes);
}

/** Changes one character of an entry's payload (the same length), after which its hash does not match. */
function tamperPayload(file: string, reason: string): void {
  const bytes = fs.readFileSync(file);
  const at = bytes.indexOf(`"reason":"${reason}"`);
  bytes.write('X', at + 10, 'latin1');
  fs.writeFileSync(file, bytes);
}

describe('the active audit segment checkpoint', () => {
  it('is written at a clean close; a start checks only the frames after it, and the chain continues', async () => {
    const { home } = place();
    let { store } = await open(home);
    await reads(store, 20);
    await store.close();
    expect(fs.existsSync(checkpointOf(home))).toBe(true);
    const first = fs.readFileSync(checkpointOf(home));
    let logged: string[];
    ({ store, logged } = await open(home));
    // Used, then removed: the segment grows past it from now on.
    const used = logged.join('\n').match(CONTINUED);
    expect(used?.[2]).toBe('0');
    expect(Number(used?.[1])).toBe(store.auditHead.seq);
    expect(fs.existsSync(checkpointOf(home))).toBe(false);
    const before = reasons(store);
    await reads(store, 5, 20);
    await store.close();
    const all = [...before, ...['read 20', 'read 21', 'read 22', 'read 23', 'read 24']];

    // The first checkpoint, put back: still authentic, and the frames after it are checked.
    fs.writeFileSync(checkpointOf(home), first);
    ({ store, logged } = await open(home));
    const tail = logged.join('\n').match(CONTINUED);
    expect(Number(tail?.[1]) + Number(tail?.[2])).toBe(store.auditHead.seq);
    expect(Number(tail?.[2])).toBeGreaterThanOrEqual(5);
    expect(reasons(store).slice(0, all.length)).toEqual(all);
    await reads(store, 1, 25);
    expect(reasons(store).at(-1)).toBe('read 25');
    await store.close();
  });

  it('is not written for a segment replaced under the store', async () => {
    const { home } = place();
    const { store } = await open(home);
    await reads(store, 3);
    const segment = newestAuditFile(home);
    fs.copyFileSync(segment, `${segment}.copy`);
    fs.renameSync(`${segment}.copy`, segment);
    await store.close();
    expect(fs.existsSync(checkpointOf(home))).toBe(false);
  });

  it('leaves the frames before it unchecked, as a sealed segment; one after it that was edited refuses', async () => {
    const { home, checkpoint, store } = await checkpointThenTen();
    await store.close();
    const segment = newestAuditFile(home);
    const intact = fs.readFileSync(segment);

    // An edited hash before the checkpoint: a full scan refuses it, a start from the checkpoint does not look.
    tamperCheck(segment, 'read 3');
    fs.rmSync(checkpointOf(home), { force: true });
    await expect(Store.open(home)).rejects.toThrow(/does not match its keyed hash/);
    fs.writeFileSync(checkpointOf(home), checkpoint);
    const { store: opened, logged } = await open(home);
    expect(logged.join('\n')).toMatch(CONTINUED);
    await opened.close();

    // An edited entry after it is refused, naming the segment.
    fs.writeFileSync(segment, intact);
    tamperPayload(segment, 'read 15');
    fs.writeFileSync(checkpointOf(home), checkpoint);
    await expect(Store.open(home)).rejects.toThrow(/does not match its keyed hash/);
  });

  it('is ignored, with one line, when its MAC fails, it names another segment, or the segment is shorter', async () => {
    const { home } = place();
    let { store } = await open(home, { segmentBytes: 4096 });
    await reads(store, 3);
    await store.close();
    const early = place().home;
    fs.cpSync(home, early, { recursive: true });
    ({ store } = await open(home, { segmentBytes: 4096 }));
    await reads(store, 3, 3);
    await store.close();
    const later = fs.readFileSync(checkpointOf(home));

    const cases: Array<{ home: string; checkpoint: Buffer; says: RegExp }> = [
      { home: early, checkpoint: later, says: /the segment is shorter/ },
      {
        home,
        checkpoint: Buffer.concat([later.subarray(0, 20), Buffer.from('x'), later.subarray(21)]),
        says: /its keyed MAC does not match/,
      },
    ];
    for (const c of cases) {
      const expected = await reasonsAfterFullScan(c.home);
      fs.writeFileSync(checkpointOf(c.home), c.checkpoint);
      const { store: opened, logged } = await open(c.home, { segmentBytes: 4096 });
      expect(logged.join('\n')).toMatch(NOT_USED);
      expect(logged.join('\n')).toMatch(c.says);
      expect(logged.join('\n')).not.toMatch(CONTINUED);
      expect(reasons(opened)).toEqual(expected);
      await opened.close();
    }

    // A rotation after the checkpoint: it names a sealed segment now.
    fs.writeFileSync(checkpointOf(home), later);
    ({ store } = await open(home, { segmentBytes: 4096 }));
    const segments = () => fs.readdirSync(path.join(home, 'audit')).filter((n) => n.endsWith('.log')).length;
    const count = segments();
    for (let i = 6; segments() === count; i++) await reads(store, 1, i);
    const expected = reasons(store);
    await store.close();
    fs.writeFileSync(checkpointOf(home), later);
    const { store: rotated, logged } = await open(home, { segmentBytes: 4096 });
    expect(logged.join('\n')).toMatch(/was not used \(it is of segment \d{12}\.log, not the newest\)/);
    expect(reasons(rotated).slice(0, expected.length)).toEqual(expected);
    await rotated.close();
  });

  it('after more appends and no clean close (kill -9): a full scan, or the stale checkpoint and its tail, lose nothing', async () => {
    const { home, checkpoint, store } = await checkpointThenTen();
    const written = reasons(store);
    // No close: as a daemon killed, its files as they are. The checkpoint was removed at open.
    const crashed = place().home;
    fs.cpSync(home, crashed, { recursive: true });
    await store.close();
    expect(fs.existsSync(checkpointOf(crashed))).toBe(false);
    const copy = place().home;
    fs.cpSync(crashed, copy, { recursive: true });

    const full = await open(crashed);
    expect(full.logged.join('\n')).not.toMatch(/checkpoint|active\.ckpt/);
    expect(reasons(full.store).slice(0, written.length)).toEqual(written);
    await full.store.close();

    fs.writeFileSync(checkpointOf(copy), checkpoint);
    const resumed = await open(copy);
    expect(resumed.logged.join('\n')).toMatch(CONTINUED);
    expect(reasons(resumed.store).slice(0, written.length)).toEqual(written);
    await resumed.store.close();
  });
});

describe('a daemon stopped and started again', () => {
  it('leaves the checkpoint at its stop and continues from it at its start; the trail verifies', async () => {
    const p = place();
    const first = await startIn(p);
    await seed(first.client);
    await first.stop();
    expect(fs.existsSync(checkpointOf(p.home))).toBe(true);
    // The worker's threshold as it ships (a run with BELLA_SCAN_WORKER_BYTES=0 would scan whole in one).
    const again = await startIn(p, { env: { BELLA_SCAN_WORKER_BYTES: String(WORKER_MIN_BYTES) } });
    try {
      expect(readLog(p.logFile)).toMatch(CONTINUED);
      expect(fs.existsSync(checkpointOf(p.home))).toBe(false);
      expect((await again.client.call('verifyAudit', {})).ok).toBe(true);
    } finally {
      await again.stop();
    }
  }, 60_000);
});

/** A store with 10 reads closed (its checkpoint kept), opened again, and 10 reads more; left open. */
async function checkpointThenTen(): Promise<{ home: string; checkpoint: Buffer; store: Store }> {
  const { home } = place();
  const first = await open(home);
  await reads(first.store, 10);
  await first.store.close();
  const checkpoint = fs.readFileSync(checkpointOf(home));
  const { store } = await open(home);
  await reads(store, 10, 10);
  return { home, checkpoint, store };
}

/** The entries a start without a checkpoint serves (the store is closed again, its checkpoint removed). */
async function reasonsAfterFullScan(home: string): Promise<string[]> {
  fs.rmSync(checkpointOf(home), { force: true });
  const { store } = await open(home, { segmentBytes: 4096 });
  const out = reasons(store);
  await store.close();
  fs.rmSync(checkpointOf(home), { force: true });
  return out;
}
