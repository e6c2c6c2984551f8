#!/usr/bin/env node
/* global process */
// `node bin/bella.mjs …` as written in the docs: the same CLI as the installed `bella`
// (bin/bella.cjs, which package.json names), run through it.
import { createRequire } from 'node:module';

process.on('SIGUSR1', () => {});
createRequire(import.meta.url)('./bella.cjs');
