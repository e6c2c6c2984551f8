import path from 'node:path';
import type { CliResult } from './cli';
import { repoRoot } from './build';

/** The scripts in test/helpers/fixtures that tests run as separate processes. */
export type Fixture = 'remote-call' | 'tls-server' | 'socket-probe' | 'https-probe' | 'oidc-issuer';

/**
 * Turns tsx's compile cache off before tsx loads: fixtures run with a host's own environment
 * (not the test run's, see vitest.config.ts), and the cache would outlive the run in the temp dir.
 */
const NO_TSX_CACHE = 'data:text/javascript,process.env.TSX_DISABLE_CACHE="1"';

/** Node arguments running a fixture from TypeScript source, its one argument passed as JSON. */
export function fixtureArgs(name: Fixture, arg?: object): string[] {
  const script = path.join(repoRoot, 'test', 'helpers', 'fixtures', `${name}.ts`);
  return ['--import', NO_TSX_CACHE, '--import', 'tsx', script, ...(arg === undefined ? [] : [JSON.stringify(arg)])];
}

/** The last JSON line a fixture printed; throws with its stderr when it failed. */
export function lastJson<T>(result: CliResult): T {
  const last = result.stdout.trim().split('\n').at(-1);
  if (result.code !== 0 || !last) throw new Error(`fixture exited ${result.code}: ${result.stderr}`);
  return JSON.parse(last) as T;
}
