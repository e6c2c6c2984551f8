import { useEffect, useState } from 'react';
import type { DaemonStatus, StorageStatus } from '../../../../daemon/api/routes';
import { bella } from '../../lib/bella';
import { useRevision } from '../../lib/events';

/** How often the daemon's status is read again when no event says something changed. */
const REFRESH_MS = 15_000;

/**
 * `bella daemon status`, read again on every daemon event and every 15 s; null while it cannot be
 * read (the daemon-not-answering note says that).
 */
export function useDaemonStatus(): DaemonStatus | null {
  const [status, setStatus] = useState<DaemonStatus | null>(null);
  const revision = useRevision(() => true);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  useEffect(() => {
    let current = true;
    bella()
      .status({})
      .then((s) => current && setStatus(s))
      .catch(() => current && setStatus(null));
    return () => {
      current = false;
    };
  }, [revision, tick]);

  return status;
}

/**
 * Where the state is kept, in one quiet sentence: nothing for the files of this machine; on
 * PostgreSQL, the server and this node's role (and which node is active when it is a standby).
 */
export function describeStorage(storage: StorageStatus): string | null {
  if (storage.kind === 'files') return null;
  const shared = `Shared on PostgreSQL ${storage.server} — this node (${storage.node})`;
  if (storage.role === 'active') return `${shared} is active, epoch ${storage.epoch ?? '?'}`;
  if (storage.active === null) return `${shared} is a standby: no node is active`;
  return `${shared} is a standby: node ${storage.active.node ?? storage.active.url ?? '(unnamed)'} is active`;
}
