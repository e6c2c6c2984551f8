import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Creates a directory (and parents) readable only by its owner. */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Defends against a pre-existing directory left world-readable: other users must not list it.
  fs.chmodSync(dir, 0o700);
}

/**
 * What {@link writeFileDurable} writes: the content, or a function that writes it to the open file
 * descriptor synchronously (so a snapshot is exactly the state of one instant, in bounded memory).
 */
export type FileContent = string | Buffer | ((fd: number) => void);

/** A unique temp file beside `file` (`.FILE.<pid>.<rand>.tmp`), where a whole file is written before its rename. */
function tempPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Writes a whole file so that a crash at any moment leaves either the old or the new content:
 * a unique temp file (0600 from creation), fsync, rename over the target, fsync the directory.
 * Every failure before the rename removes the temp file: it may hold secrets (`bella pull --out`),
 * and a target that is a directory, a full disk or a refused rename must not leave them behind.
 */
export async function writeFileDurable(file: string, data: FileContent): Promise<void> {
  const dir = path.dirname(file);
  const temp = tempPath(file);
  const fd = fs.openSync(temp, 'wx', 0o600);
  try {
    try {
      if (typeof data === 'function') data(fd);
      else fs.writeFileSync(fd, data);
      await new Promise<void>((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
    } finally {
      fs.closeSync(fd);
    }
    await fs.promises.rename(temp, file);
  } catch (err) {
    // Defends against plaintext left behind: the temp file goes whatever failed.
    fs.rmSync(temp, { force: true });
    throw err;
  }
  await syncDir(dir);
}

/** Copies a file as {@link writeFileDurable} writes one (the kernel copies; nothing is read into memory). */
export async function copyFileDurable(source: string, file: string): Promise<void> {
  const dir = path.dirname(file);
  const temp = tempPath(file);
  try {
    await fs.promises.copyFile(source, temp, fs.constants.COPYFILE_EXCL);
    await fs.promises.chmod(temp, 0o600);
    const handle = await fs.promises.open(temp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temp, file);
  } catch (err) {
    await fs.promises.rm(temp, { force: true });
    throw err;
  }
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes temp files a crash left behind next to `file`. */
export function removeStaleTemps(file: string): void {
  const dir = path.dirname(file);
  const prefix = `.${path.basename(file)}.`;
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith(prefix) && name.endsWith('.tmp')) fs.rmSync(path.join(dir, name), { force: true });
  }
}

/** Reads `into.length` bytes of `fd` from `position` (fewer at the end of the file); returns those read. */
export function readFully(fd: number, into: Uint8Array, position: number): Buffer {
  let read = 0;
  while (read < into.length) {
    const n = fs.readSync(fd, into, read, into.length - read, position + read);
    if (n === 0) break;
    read += n;
  }
  return Buffer.from(into.buffer, into.byteOffset, read);
}
