import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BellaSandbox, oneErrorLine } from '../helpers/cli';

// Issue 8 item 10: a read-only data directory gives one line that names it, not an EROFS stack trace.

describe('a data directory bella cannot write', { timeout: 60_000 }, () => {
  it('a read-only data directory (a tmpfs mounted ro; root, as CI runs)', async () => {
    const s = new BellaSandbox();
    fs.mkdirSync(s.home, { recursive: true, mode: 0o700 });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m,mode=0700', 'tmpfs', s.home]);
    // The daemon's log goes to a private temp dir when the data dir cannot hold it: this test's own.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-ro-tmp-'));
    try {
      const res = await s.run(['daemon', 'start'], { env: { TMPDIR: tmp } });
      expect(res.code).toBe(1);
      const line = oneErrorLine(res);
      expect(line).toMatch(/^error: the bella daemon could not start: .*(read-only|EROFS).*\(log: \/.+daemon\.log\)$/);
      expect(line).toContain(s.home);
      expect(res.stderr).not.toMatch(/\n\s+at /);
      const log = /\(log: (\/.+daemon\.log)\)$/.exec(line)![1]!;
      expect(log.startsWith(tmp + path.sep)).toBe(true);
      expect(fs.readFileSync(log, 'utf8')).toContain('read-only');
    } finally {
      execFileSync('umount', ['-l', s.home]);
      await s.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
