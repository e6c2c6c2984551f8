import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, seed } from '../../test/helpers/daemon';
import { benchDaemon, issueMany, median, round } from '../lib';

/** Figures of the cli case, as written to latest.json. */
export interface CliResult {
  bella_ms: number;
  node_ms: number;
  ratio: number;
}

function time(args: string[], env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  execFileSync(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return performance.now() - t;
}

/** What a user runs as `bella`: the file package.json's "bin" names (bin/bella.cjs). */
function bellaBin(): string {
  const { bin } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    bin: { bella: string };
  };
  return path.join(repoRoot, bin.bella);
}

/** `bella leases list --json` against `node -e 0`, median of `runs`, interleaved. */
export async function cliCase(runs = 10): Promise<CliResult> {
  const { daemon, place } = await benchDaemon('cli');
  try {
    const { project, environment } = await seed(daemon.client);
    await issueMany(daemon.client, 20, 8, (i) => ({
      project,
      environment,
      scope: ['API_KEY'],
      ttlSeconds: 3600,
      reason: `cli bench ${i}`,
    }));
    const env = { ...process.env, BELLA_HOME: daemon.home, BELLA_SOCKET: daemon.socket };
    const bella = [bellaBin(), 'leases', 'list', '--json'];
    const out = execFileSync(process.execPath, bella, { env, encoding: 'utf8' });
    const listed = JSON.parse(out) as { leases?: unknown[] } | unknown[];
    const n = Array.isArray(listed) ? listed.length : (listed.leases?.length ?? 0);
    if (n !== 20) throw new Error(`bella leases list --json listed ${n} leases, expected 20`);
    time(['-e', '0'], env);
    const b: number[] = [];
    const nd: number[] = [];
    for (let i = 0; i < runs; i++) {
      b.push(time(bella, env));
      nd.push(time(['-e', '0'], env));
    }
    const bellaMs = median(b);
    const nodeMs = median(nd);
    return { bella_ms: round(bellaMs, 0), node_ms: round(nodeMs, 0), ratio: round(bellaMs / nodeMs, 2) };
  } finally {
    await daemon.stop();
    place.cleanup();
  }
}
