#!/usr/bin/env node
// Before anything else: a SIGUSR1 listener keeps Node from opening its inspector in a process
// that is about to hold a token (see daemon/cli/main.ts, which keeps one for the whole run).
process.on('SIGUSR1', () => {});

import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write(
    `error: bella is not built (${fileURLToPath(cli)} is missing): run npm install (it builds bella)\n`,
  );
  process.exit(1);
}
await import(cli.href);
