import path from 'node:path';
import type { CliResult } from './cli';
import { repoRoot } from './build';

/** The scripts in test/helpers/fixtures that tests run as separate processes. */
export type Fixture = 'remote-call' | 'tls-server' | 'socket-probe' | 'https-probe' | 'oidc-issuer';

/** Node arguments running a fixture from TypeScript source, its one argument passed as JSON. */
export function fixtureArgs(name: Fixture, arg?: object): string[] {
  const script = path.join(repoRoot, 'test', 'helpers', 'fixtures', `${name}.ts`);
  return ['--import', 'tsx', script, ...(arg === undefined ? [] : [JSON.stringify(arg)])];
}

/** The last JSON line a fixture printed; throws with its stderr when it failed. */
export function lastJson<T>(result: CliResult): T {
  const last = result.stdout.trim().split('\n').at(-1);
  if (result.code !== 0 || !last) throw new Error(`fixture exited ${result.code}: ${result.stderr}`);
  return JSON.parse(last) as T;
}
