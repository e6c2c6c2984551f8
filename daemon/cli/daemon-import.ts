import { createRequire } from 'node:module';

/**
 * Loads the built daemon (dist/daemon.cjs, CommonJS: daemon/server/start.ts) for `bella daemon
 * run`, with require, as every build of the CLI (dist/cli.cjs, dist/bella.mjs, the sources) can.
 */
export function importDaemon(file: string): unknown {
  return createRequire(import.meta.url)(file);
}
