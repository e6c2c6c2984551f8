import fs from 'node:fs';
import { logDamage, scanLog } from './log-scan';
import { headerPayload, type LogFormat } from './record-frame';
import { RecordLog } from './record-log';
import type { StoredLease } from './schema';

/** An ended lease moved out of the hot state; its token hash is dropped. */
export type ArchivedLease = Omit<StoredLease, 'tokenHash'>;

/**
 * Ended leases past their retention period, as HMAC-chained records (0600), so the state stays
 * proportional to live work while `leases list --all` still shows them.
 */
export class LeaseArchive {
  private constructor(
    private readonly log: RecordLog,
    private readonly format: LogFormat,
    private readonly advice: string,
  ) {}

  get file(): string {
    return this.log.file;
  }

  /** Opens (or creates) the archive; damage refuses, a torn last record is cut off. */
  static async open(file: string, format: LogFormat, advice: string): Promise<LeaseArchive> {
    if (!fs.existsSync(file)) {
      return new LeaseArchive(await RecordLog.create(file, format, headerPayload('lease-archive', {})), format, advice);
    }
    const scan = scanLog(file, format, { advice, keep: false });
    if (scan.end === 0 || (scan.header as { log?: unknown }).log !== 'lease-archive') {
      throw logDamage(file, 0, 'it is not a bella lease archive', advice);
    }
    return new LeaseArchive(RecordLog.open(file, format, scan), format, advice);
  }

  /** Appends leases durably (without their token hashes). */
  async append(leases: StoredLease[]): Promise<void> {
    if (leases.length === 0) return;
    await this.log.append(this.log.prepare(leases.map(({ tokenHash: _dropped, ...rest }) => JSON.stringify(rest))));
  }

  /** Every archived lease, oldest first. */
  readAll(): ArchivedLease[] {
    const out: ArchivedLease[] = [];
    scanLog(this.log.file, this.format, {
      advice: this.advice,
      keep: false,
      visit: (record) => {
        if (record.offset > 0) out.push(JSON.parse(record.payload.toString('utf8')) as ArchivedLease);
      },
    });
    return out;
  }

  close(): void {
    this.log.close();
  }
}
