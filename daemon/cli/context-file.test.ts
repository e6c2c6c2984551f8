import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findContextFile } from './context-file';

describe('findContextFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-ctx-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('finds the nearest .bella upward', () => {
    const nested = path.join(dir, 'a', 'b');
    fs.mkdirSync(nested, { recursive: true });
    fs.writeFileSync(path.join(dir, '.bella'), JSON.stringify({ project: 'outer', environment: 'dev' }));
    fs.writeFileSync(path.join(dir, 'a', '.bella'), JSON.stringify({ project: 'inner', environment: 'prod' }));
    expect(findContextFile(nested)).toEqual({
      project: 'inner',
      environment: 'prod',
      file: path.join(dir, 'a', '.bella'),
    });
  });

  it('names a broken file', () => {
    fs.writeFileSync(path.join(dir, '.bella'), '{nope');
    expect(() => findContextFile(dir)).toThrow(`${path.join(dir, '.bella')} is not valid JSON`);
    fs.writeFileSync(path.join(dir, '.bella'), JSON.stringify({ project: 'x' }));
    expect(() => findContextFile(dir)).toThrow(/must hold/);
  });
});
