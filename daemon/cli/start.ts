// The CLI's entry as built (dist/cli.cjs, CommonJS; bin/bella.cjs and bin/bella.mjs require it).
// It runs the CLI bundle (dist/cli-ID.cjs, built from main.ts) with V8's code cache made by the
// build (dist/cli-ID.cache): daemon/base/node/bundle.ts. The CLI never writes the cache itself.
import { runBundle } from '../base/node/bundle';

// As in main.ts, before anything else: no inspector on SIGUSR1 in a process that holds a token.
process.on('SIGUSR1', () => {});

/** Set by scripts/build-cli.ts: the bundle's file name without extension (`cli-ID`). */
declare const BELLA_CLI_BUNDLE: string;

runBundle(__dirname, BELLA_CLI_BUNDLE, (specifier) => import(specifier));
