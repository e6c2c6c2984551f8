import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findOnPath } from './notify-send';

describe('findOnPath', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-find-on-path-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  const dir = (name: string) => {
    const d = path.join(root, name);
    fs.mkdirSync(d);
    return d;
  };
  const empty = dir('empty');
  const notRunnable = dir('not-runnable');
  fs.writeFileSync(path.join(notRunnable, 'tool'), '#!/bin/sh\n', { mode: 0o644 });
  const aDirectory = dir('a-directory');
  fs.mkdirSync(path.join(aDirectory, 'tool'));
  const found = dir('found');
  fs.writeFileSync(path.join(found, 'tool'), '#!/bin/sh\n', { mode: 0o755 });
  const later = dir('later');
  fs.writeFileSync(path.join(later, 'tool'), '#!/bin/sh\n', { mode: 0o755 });
  const aFile = path.join(root, 'a-file');
  fs.writeFileSync(aFile, '');

  it('takes the first directory holding an executable file of that name, like which', () => {
    // A file without execute bits is no executable, even for root.
    const dirs = ['', path.join(root, 'missing'), aFile, empty, notRunnable, aDirectory, found, later];
    expect(findOnPath('tool', dirs.join(path.delimiter))).toBe(path.join(found, 'tool'));
  });

  it('is null when no directory holds it, or without a PATH', () => {
    expect(findOnPath('tool', [empty, path.join(root, 'missing'), aFile, aDirectory].join(path.delimiter))).toBeNull();
    expect(findOnPath('tool', undefined)).toBeNull();
    expect(findOnPath('tool', '')).toBeNull();
  });
});
