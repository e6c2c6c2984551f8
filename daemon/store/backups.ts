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

/** Removes all but the newest `keep` backups. */
export function pruneBackups(dir: string, keep: number): void {
  const all = listBackups(dir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) fs.rmSync(path.join(dir, old));
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
