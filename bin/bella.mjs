#!/usr/bin/env node
/* global process, URL */
// Before anything else: a SIGUSR1 listener keeps Node from opening its inspector in a process
// that is about to hold a token (see daemon/cli/main.ts, which keeps one for the whole run).
process.on('SIGUSR1', () => {});

const cli = new URL('../dist/cli.js', import.meta.url);
try {
  await import(cli.href);
} catch (err) {
  // Only the entry itself missing means "not built"; anything else is a real error.
  const { fileURLToPath } = await import('node:url');
  const file = fileURLToPath(cli);
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).startsWith(`Cannot find module '${file}'`))
    throw err;
  process.stderr.write(`error: bella is not built (${file} is missing): run npm install (it builds bella)\n`);
  process.exit(1);
}
