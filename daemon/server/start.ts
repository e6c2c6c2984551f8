// The daemon's entry as built (dist/daemon.cjs, CommonJS): what every launcher runs
// (`node dist/daemon.cjs --home H --socket S`) and what `bella daemon run` requires. It runs the
// daemon bundle (dist/daemon-ID.cjs, built from main.ts) with V8's code cache (dist/daemon-ID.cache):
// daemon/base/node/bundle.ts. The build makes the cache by starting a daemon once; a daemon that
// finds none, or one V8 refuses, writes it once it serves (docs/decisions.md, "Daemon start-up").
import { runBundle } from '../base/node/bundle';
import { daemonSeal, sealCache } from '../base/node/bundle-seal';
import { writeFileDurable } from '../base/node/files';
import type { DaemonOptions, PostgresNode, RunningDaemon } from './daemon';

// As in main.ts, before anything else: no inspector on SIGUSR1 in a process holding the master key.
process.on('SIGUSR1', () => undefined);

/** Set by scripts/build-daemon.ts: the bundle's file name without extension (`daemon-ID`). */
declare const BELLA_DAEMON_BUNDLE: string;

/** What main.ts exports. */
interface DaemonBundle {
  main(onReady?: () => void): Promise<void>;
  runDaemon(options: DaemonOptions): Promise<RunningDaemon>;
  storeOptions(flags: StoreFlags): PostgresNode | undefined;
}

type StoreFlags = { store?: string; node?: string; url?: string };

const bundle = runBundle(__dirname, BELLA_DAEMON_BUNDLE, (specifier) => import(specifier), daemonSeal);
const daemon = bundle.exports as DaemonBundle;

/**
 * Once the daemon serves: the code cache of what start-up compiled, for each file of the bundle
 * run so far that had none V8 took. Written whole beside the file (a temp file renamed over it:
 * two daemons never write one file half each); where dist/ is not writable (a packaged app, a
 * system install) the daemon runs without.
 */
async function saveCodeCache(): Promise<void> {
  // The bundle's own last: the build waits for it to appear (scripts/build-daemon.ts).
  for (const file of [...bundle.files].reverse()) {
    if (file.cached) continue;
    await writeFileDurable(file.cacheFile, sealCache(file.digest!, file.script.createCachedData())).catch(
      () => undefined,
    );
  }
}

/** `bella daemon run`'s daemon (daemon/cli/commands/daemon.ts), which saves the cache as main() does. */
export async function runDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const running = await daemon.runDaemon(options);
  void saveCodeCache();
  return running;
}

/** `bella daemon run --store …`: where its daemon keeps the state (daemon.ts). */
export function storeOptions(flags: StoreFlags): PostgresNode | undefined {
  return daemon.storeOptions(flags);
}

// `node dist/daemon.cjs …`, not a require of it.
if (require.main?.filename === __filename) void daemon.main(() => void saveCodeCache());
