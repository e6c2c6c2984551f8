import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The built daemon entry: `dist/daemon.cjs` beside `dist/cli.cjs`. This code may land in the
 * entry file or in a chunk under dist/chunks/ (or run from the sources), hence three places.
 */
export function daemonScriptPath(): string {
  const candidates = ['./daemon.cjs', '../daemon.cjs', '../../dist/daemon.cjs'].map((p) => new URL(p, import.meta.url));
  const found = candidates.find((u) => fs.existsSync(fileURLToPath(u)));
  return fileURLToPath(found ?? (candidates[0] as URL));
}
