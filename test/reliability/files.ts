import fs from 'node:fs';
import path from 'node:path';

/**
 * The audit trail's files, oldest first, whichever layout the daemon under test writes (one
 * `audit.log`, or segments in `audit/`), so a regression test runs against older builds too.
 */
export function auditFiles(home: string): string[] {
  const legacy = path.join(home, 'audit.log');
  if (fs.existsSync(legacy)) return [legacy];
  const dir = path.join(home, 'audit');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.log'))
    .sort()
    .map((n) => path.join(dir, n));
}

/** The file new audit entries are appended to. */
export function newestAuditFile(home: string): string {
  const files = auditFiles(home);
  if (!files.length) throw new Error(`no audit trail in ${home}`);
  return files.at(-1)!;
}

/** Total bytes of the audit trail. */
export function auditBytes(home: string): number {
  return auditFiles(home).reduce((n, f) => n + fs.statSync(f).size, 0);
}

/** The state journal. */
export function journalFile(home: string): string {
  return path.join(home, 'state.journal');
}

/** Drops the last `n` lines of a line-based file (the file keeps its final newline, if any). */
export function dropLastLines(file: string, n: number): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const trailing = lines.at(-1) === '' ? lines.pop() : undefined;
  const dropped = lines.splice(lines.length - n, n);
  fs.writeFileSync(file, lines.join('\n') + (trailing === '' && lines.length ? '\n' : ''));
  return dropped;
}

/** Every file under `dir` with its bytes (the daemon's pid lock aside). */
export function filesOf(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name !== 'daemon.pid') out.set(path.relative(dir, full), fs.readFileSync(full));
    }
  };
  walk(dir);
  return out;
}
