import fs from 'node:fs';
import path from 'node:path';

// The daily snapshots in backups/: their names, how many are kept, and the advice a refusal to
// start gives (the newest good one to restore).

/** How many daily snapshots `backups/` keeps. */
export const DEFAULT_BACKUPS_KEPT = 7;

/** A time as a file-name part: `2026-11-28T12-00-00-000Z`. */
export function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[:.]/g, '-');
}

/** Where a backup taken at `now` goes. */
export function backupFile(dir: string, now: number): string {
  return path.join(dir, `state-${stamp(now)}.snapshot`);
}

/** Where the lease table files the backups name are kept (`backups/lease-table/`). */
export function backupTableDir(dir: string): string {
  return path.join(dir, 'lease-table');
}

/** Removes all but the newest `keep` backups, and the lease table files none of those left names. */
export function pruneBackups(dir: string, keep: number): void {
  const all = listBackups(dir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) fs.rmSync(path.join(dir, old));
  const table = backupTableDir(dir);
  if (!fs.existsSync(table)) return;
  const named = new Set(all.slice(Math.max(0, all.length - keep)).flatMap((b) => namedTableFiles(path.join(dir, b))));
  for (const name of fs.readdirSync(table)) if (!named.has(name)) fs.rmSync(path.join(table, name), { force: true });
}

/** The lease table files a snapshot's header names (none for one that holds its leases, or unreadable). */
function namedTableFiles(snapshot: string): string[] {
  const fd = fs.openSync(snapshot, 'r');
  try {
    const head = Buffer.alloc(1 << 20);
    const read = fs.readSync(fd, head, 0, head.length, 0);
    const line = head.subarray(0, read).toString('utf8').split('\n', 1)[0]!;
    const header = JSON.parse(line.slice(line.indexOf('{'))) as { leaseShards?: Array<{ file?: unknown }> };
    return (header.leaseShards ?? []).map((r) => String(r.file));
  } catch {
    return [];
  } finally {
    fs.closeSync(fd);
  }
}

/** When the newest snapshot in `dir` was written, or null. */
export function newestBackupTime(dir: string): number | null {
  const newest = listBackups(dir).at(-1);
  return newest ? fs.statSync(path.join(dir, newest)).mtimeMs : null;
}

/** What a refusal to start advises: the last good backup to copy over state.snapshot, if any. */
export function restoreAdvice(backups: string): string {
  const lastGood = fs.existsSync(backups) ? listBackups(backups).at(-1) : undefined;
  return lastGood
    ? `the last good backup is ${path.join(backups, lastGood)}: copy it over state.snapshot and start again (the journal replays what came after it)`
    : 'restore the data directory from your own backups';
}

function listBackups(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => n.startsWith('state-') && n.endsWith('.snapshot'))
    .sort();
}
