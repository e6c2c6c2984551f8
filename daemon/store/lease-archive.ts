import fs from 'node:fs';
import type { StoredLease } from './schema';

/** An ended lease moved out of the hot state; its token hash is dropped. */
export type ArchivedLease = Omit<StoredLease, 'tokenHash'>;

/**
 * Ended leases past their retention period, append-only JSONL (0600), so the state file stays
 * proportional to live work while `leases list --all` still shows them.
 */
export class LeaseArchive {
  constructor(readonly file: string) {}

  /** Appends leases durably. */
  async append(leases: StoredLease[]): Promise<void> {
    if (leases.length === 0) return;
    const text = leases.map(({ tokenHash: _dropped, ...rest }) => JSON.stringify(rest)).join('\n') + '\n';
    const handle = await fs.promises.open(this.file, 'a', 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** Every archived lease, oldest first; a torn last line (crash mid-append) is skipped. */
  async readAll(): Promise<ArchivedLease[]> {
    let text: string;
    try {
      text = await fs.promises.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: ArchivedLease[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as ArchivedLease);
      } catch {
        /* torn tail of an interrupted append: never acknowledged */
      }
    }
    return out;
  }
}
