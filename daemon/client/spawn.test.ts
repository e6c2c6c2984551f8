import { describe, expect, it } from 'vitest';
import { reasonFromLog } from './spawn';

describe('reasonFromLog', () => {
  it("takes the daemon's own last error line, without its timestamp", () => {
    const log = [
      '2026-12-01T22:44:45.100Z bella daemon 0.1.0 (pid 1) serving /h on /s',
      '2026-12-01T22:44:45.806Z error: the master key /h/master.key is missing',
      'error: the master key /h/master.key is missing',
    ].join('\n');
    expect(reasonFromLog(log)).toBe('the master key /h/master.key is missing');
  });

  it('else the first line of an uncaught error, never its stack', () => {
    const log = [
      'file:///x/dist/daemon.js:12',
      '    throw err;',
      '    ^',
      '',
      "Error: EROFS: read-only file system, chmod '/tmp/ro'",
      '    at Object.chmodSync (node:fs:1:1)',
    ].join('\n');
    expect(reasonFromLog(log)).toBe("Error: EROFS: read-only file system, chmod '/tmp/ro'");
    expect(reasonFromLog('nothing useful\n')).toBeUndefined();
  });
});
