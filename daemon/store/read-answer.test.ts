import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AuditInput } from './audit/entry';
import { dataFiles } from './data-files';
import { Store } from './store';
import { killWithout } from '../../test/helpers/store';

// When a read is answered, relative to the disk work that is not its own: the segment rotation
// its group triggers, and the journal record of an anchor committed in the same group. Observed
// as order (what exists on disk when the answer arrives, which fdatasync is still held), never time.

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function home(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-read-answer-'));
  dirs.push(dir);
  return dir;
}

const read = (i: number): AuditInput[] => [
  {
    event: 'SecretsRead',
    outcome: 'Success',
    actor: 'token',
    project: 'app',
    environment: 'prod',
    message: `read ${i}`,
  },
];

function auditFiles(dir: string): string[] {
  return fs.readdirSync(dataFiles(dir).audit).sort();
}

describe('a read is answered once its own entries are durable', () => {
  it('the read whose group fills the segment is answered before the next segment is created and the index written', async () => {
    const dir = home();
    const store = await Store.open(dir, { segmentBytes: 2048 });
    const audit = dataFiles(dir).audit;
    let fullAtAnswer = 0;
    let lastFull: string | null = null;
    for (let i = 0; fullAtAnswer < 3; i++) {
      expect(i).toBeLessThan(300);
      await store.record(read(i));
      // Nothing has run between the answer and this line. The newest segment holds the entry.
      const files = auditFiles(dir);
      const newest = files.filter((f) => f.endsWith('.log')).at(-1)!;
      const bytes = fs.readFileSync(path.join(audit, newest));
      expect(bytes.toString('utf8')).toContain(`"read ${i}"`);
      if (lastFull) {
        // The group after a full segment's was prepared once the next segment was there.
        expect(newest > lastFull).toBe(true);
        lastFull = null;
      }
      if (bytes.length >= 2048) {
        // This group filled it: answered before the next segment (or its temp file) and the index exist.
        fullAtAnswer++;
        lastFull = newest;
        expect(files.filter((f) => /^\..+\.log\..+\.tmp$/.test(f))).toEqual([]);
        expect(files.filter((f) => f.includes(newest.replace(/\.log$/, '.idx')))).toEqual([]);
      }
    }
    await store.close();
    // Every sealed segment has its index once the store is closed; the trail verifies and reads back.
    const files = auditFiles(dir);
    const logs = files.filter((f) => f.endsWith('.log'));
    for (const log of logs.slice(0, -1)) expect(files).toContain(log.replace(/\.log$/, '.idx'));
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const reopened = await Store.open(dir, { segmentBytes: 2048 });
    expect((await reopened.verifyAudit()).ok).toBe(true);
    expect(reopened.queryAudit({ event: 'SecretsRead' }, 1000).entries.length).toBe(reopened.auditHead.seq);
    expect(reopened.problems()).toEqual([]);
    await reopened.close();
  });

  it('reads in a group with an anchor are answered while the journal fdatasync of the anchor is still held', async () => {
    const dir = home();
    const store = await Store.open(dir);
    await store.record(read(1));
    await (store as unknown as { queue: { idle(): Promise<void> } }).queue.idle();
    // Hold every fdatasync of the journal until released; the trail's go through.
    const journal = fs.realpathSync(dataFiles(dir).journal);
    const held: Array<() => void> = [];
    let journalSyncAsked!: () => void;
    const asked = new Promise<void>((resolve) => (journalSyncAsked = resolve));
    const real = fs.fdatasync.bind(fs);
    vi.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, callback: (err: Error | null) => void) => {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) !== journal) return real(fd, callback);
      held.push(() => real(fd, callback));
      journalSyncAsked();
    }) as typeof fs.fdatasync);

    const second = store.record(read(2)); // a group of its own, in flight
    const third = store.record(read(3)); // waits for the next group...
    const anchored = (store as unknown as { anchor(): Promise<void> }).anchor(); // ...with the anchor
    let anchorDone = false;
    void anchored.then(() => (anchorDone = true));
    await second;
    const headBefore = store.auditHead;
    await asked;
    await third;
    // Answered, its entry durable in the trail, while the anchor's journal record is not yet synced.
    expect(held).toHaveLength(1);
    expect(anchorDone).toBe(false);
    expect(store.queryAudit({}, 10).entries.map((e) => e.message)).toEqual(['read 3', 'read 2', 'read 1']);
    for (const release of held.splice(0)) release();
    await anchored;
    vi.restoreAllMocks();

    // The anchor's record names the head before the reads beside it (they are anchored next time).
    const records = fs.readFileSync(journal, 'utf8').trim().split('\n');
    const last = records.at(-1)!;
    expect(last).toContain(`"head":{"seq":${headBefore.seq},"check":"${headBefore.check}"}`);
    expect(last).not.toContain('read 3');
    // A crash now: the reads after that head are kept as entries since the last commit.
    const head = store.auditHead;
    killWithout(store);
    const reopened = await Store.open(dir);
    expect(reopened.auditHead).toEqual(head);
    expect(reopened.problems()).toEqual([]);
    expect((await reopened.verifyAudit()).ok).toBe(true);
    await reopened.close();
  });
});
