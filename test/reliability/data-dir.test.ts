import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BellaSandbox, oneErrorLine } from '../helpers/cli';

// Issue 8 item 10: a read-only data directory gives one line that names it, not an EROFS stack trace.

describe('a data directory bella cannot write', { timeout: 60_000 }, () => {
  it('a read-only data directory (a tmpfs mounted ro; root, as CI runs)', async () => {
    const s = new BellaSandbox();
    fs.mkdirSync(s.home, { recursive: true, mode: 0o700 });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m,mode=0700', 'tmpfs', s.home]);
    try {
      const res = await s.run(['daemon', 'start']);
      expect(res.code).toBe(1);
      const line = oneErrorLine(res);
      expect(line).toMatch(/^error: the bella daemon could not start: .*(read-only|EROFS).*\(log: \/.+daemon\.log\)$/);
      expect(line).toContain(s.home);
      expect(res.stderr).not.toMatch(/\n\s+at /);
    } finally {
      execFileSync('umount', ['-l', s.home]);
      await s.stop();
    }
  });
});
