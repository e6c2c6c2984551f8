import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The build the tests run (BELLA_TEST_DIST points at another one). */
export const distDir = process.env.BELLA_TEST_DIST
  ? path.resolve(process.env.BELLA_TEST_DIST)
  : path.join(repoRoot, 'dist');
/** The built daemon entry (dist/daemon.js, an ES module, in another build made before issue 21's start3). */
export const daemonScript =
  process.env.BELLA_TEST_DIST && !fs.existsSync(path.join(distDir, 'daemon.cjs'))
    ? path.join(distDir, 'daemon.js')
    : path.join(distDir, 'daemon.cjs');
/** The built `bella` CLI entry. */
export const cliScript = path.join(distDir, 'cli.cjs');
/** The one-file CLI the listener serves to holders (`GET /v1/cli/bella.mjs`). */
export const cliBundle = path.join(distDir, 'bella.mjs');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
      newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

/**
 * Builds dist/cli.cjs, dist/daemon.cjs and dist/bella.mjs when missing or older than daemon/ sources, serialised
 * across test workers by a lock so no test is handed a half-written file.
 */
export function ensureBuilt(): void {
  if (process.env.BELLA_TEST_DIST) return;
  let built: number;
  try {
    built = Math.min(...[cliScript, daemonScript, cliBundle].map((f) => fs.statSync(f).mtimeMs));
  } catch {
    built = 0;
  }
  if (built >= newestSource(path.join(repoRoot, 'daemon'))) return;
  // The lock sits in dist/ (ignored by git), not in the system's temp dir, where it would outlive the run.
  fs.mkdirSync(distDir, { recursive: true });
  execFileSync('flock', [path.join(distDir, '.test-build.lock'), 'sh', '-c', 'npm run --silent build:daemon'], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
