import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Fills the file system holding `dir` until ENOSPC; returns the filler files. */
export function fillDisk(dir: string): string[] {
  const files: string[] = [];
  const chunk = Buffer.alloc(64 * 1024, 1);
  for (const size of [chunk.length, 4096, 1]) {
    const file = path.join(dir, `filler-${files.length}`);
    files.push(file);
    const fd = fs.openSync(file, 'w');
    try {
      for (;;) fs.writeSync(fd, chunk, 0, size);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    } finally {
      fs.closeSync(fd);
    }
  }
  return files;
}

/** Mounts a tmpfs of `size` on `dir` (root only: fails, never skips, otherwise). */
export function mountTmpfs(dir: string, size: string): () => void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'this test mounts a tmpfs as the data directory and must run as root (CI does); run it with sudo or in the CI container',
    );
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]);
  return () => execFileSync('umount', ['-l', dir]);
}

/** Fills the file system holding `dir` until at most `freeBytes` are left; returns the filler file. */
export function fillDiskUntil(dir: string, freeBytes: number): string {
  const file = path.join(dir, `filler-until-${freeBytes}`);
  const chunk = Buffer.alloc(16 * 1024, 1);
  const fd = fs.openSync(file, 'w');
  try {
    for (;;) {
      const { bavail, bsize } = fs.statfsSync(dir);
      const free = bavail * bsize;
      if (free <= freeBytes) break;
      fs.writeSync(fd, chunk, 0, Math.min(chunk.length, Math.max(bsize, free - freeBytes)));
    }
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

/** Bytes free on the file system holding `dir`. */
export function freeBytes(dir: string): number {
  const { bavail, bsize } = fs.statfsSync(dir);
  return bavail * bsize;
}
