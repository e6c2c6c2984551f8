import path from 'node:path';
import { masterKeyPath } from '../base/node/paths';

/** The files of a data directory. */
export function dataFiles(home: string) {
  return {
    snapshot: path.join(home, 'state.snapshot'),
    journal: path.join(home, 'state.journal'),
    audit: path.join(home, 'audit'),
    leaseArchive: path.join(home, 'leases.archive'),
    masterKey: masterKeyPath(home),
    backups: path.join(home, 'backups'),
  };
}

/** The files of one data directory, from {@link dataFiles}. */
export type DataFiles = ReturnType<typeof dataFiles>;
