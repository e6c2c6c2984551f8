#!/usr/bin/env node
/* global require, process, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS file, on purpose */
'use strict';
// The installed `bella` (package.json "bin"). CommonJS: Node runs it without its ES module loader,
// whose file reads wake libuv's thread pool (docs/decisions.md, "CLI start-up").
// Before anything else: a SIGUSR1 listener keeps Node from opening its inspector in a process
// that is about to hold a token (see daemon/cli/main.ts, which keeps one for the whole run).
process.on('SIGUSR1', () => {});

const cli = require('node:path').join(__dirname, '..', 'dist', 'cli.cjs');
try {
  require(cli);
} catch (err) {
  // Only the entry itself missing means "not built"; anything else is a real error.
  if (err?.code !== 'MODULE_NOT_FOUND' || !String(err.message).startsWith(`Cannot find module '${cli}'`)) throw err;
  process.stderr.write(`error: bella is not built (${cli} is missing): run npm install (it builds bella)\n`);
  process.exit(1);
}
