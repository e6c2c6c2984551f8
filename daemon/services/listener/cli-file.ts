import crypto from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The one-file CLI (`dist/bella.mjs`: every package inlined, no chunks, Node 20+) that the daemon
 * serves at `GET /v1/cli/bella.mjs` so a holder installs bella with curl alone. Read once when the
 * daemon starts: what is served never changes under a running daemon (a rebuild is served after a
 * restart), and its hash is computed once. Its 2 MB are not held: each download reads the file
 * again and serves it only when its hash is still the one taken at start (issue 21).
 */
export type CliFile =
  { ok: true; sha256: string; path: string; bytes(): Promise<Buffer> } | { ok: false; problem: string; path: string };

const sha256Of = (bytes: Buffer): string => crypto.createHash('sha256').update(bytes).digest('hex');

/** The SHA-256 (hex) and length of a file, read in small pieces. */
function hashFile(file: string): { sha256: string; size: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const hash = crypto.createHash('sha256');
    const piece = Buffer.allocUnsafe(64 * 1024);
    let size = 0;
    for (let n; (n = fs.readSync(fd, piece, 0, piece.length, size)) > 0; size += n) hash.update(piece.subarray(0, n));
    return { sha256: hash.digest('hex'), size };
  } finally {
    fs.closeSync(fd);
  }
}

/** The file's bytes, if they are still those hashed at start. */
async function sameBytes(file: string, sha256: string): Promise<Buffer> {
  const bytes = await fs.promises.readFile(file);
  if (sha256Of(bytes) !== sha256) {
    throw new Error(`${file} changed since this daemon started: its owner restarts the daemon to serve the new build`);
  }
  return bytes;
}

/**
 * Where the built bundle is: beside the running daemon entry (`dist/daemon.js` → `dist/bella.mjs`),
 * or `dist/` of the checkout when the daemon runs from its sources (tests).
 */
export function cliFilePath(): string {
  const candidates = ['./bella.mjs', '../../dist/bella.mjs'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  return candidates.find((p) => fs.existsSync(p)) ?? candidates[0]!;
}

/** Reads the bundle at `file` and hashes it; a missing or unreadable file is a problem to answer with, never a crash. */
export function readCliFile(file: string = cliFilePath()): CliFile {
  try {
    const { sha256, size } = hashFile(file);
    if (size === 0) throw new Error('the file is empty');
    return { ok: true, sha256, path: file, bytes: () => sameBytes(file, sha256) };
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return {
      ok: false,
      path: file,
      problem: `this daemon has no CLI file to serve (${file}: ${why}): its owner builds it with \`npm run build:daemon\` (npm install does) and restarts the daemon`,
    };
  }
}
