import crypto from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The one-file CLI (`dist/bella.mjs`: every package inlined, no chunks, Node 20+) that the daemon
 * serves at `GET /v1/cli/bella.mjs` so a holder installs bella with curl alone. Read once when the
 * daemon starts: what is served never changes under a running daemon (a rebuild is served after a
 * restart), and its hash is computed once.
 */
export type CliFile =
  { ok: true; bytes: Buffer; sha256: string; path: string } | { ok: false; problem: string; path: string };

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
    const bytes = fs.readFileSync(file);
    if (bytes.length === 0) throw new Error('the file is empty');
    return { ok: true, bytes, sha256: crypto.createHash('sha256').update(bytes).digest('hex'), path: file };
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return {
      ok: false,
      path: file,
      problem: `this daemon has no CLI file to serve (${file}: ${why}): its owner builds it with \`npm run build:daemon\` (npm install does) and restarts the daemon`,
    };
  }
}
