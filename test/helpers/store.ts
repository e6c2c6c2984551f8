import type { Store } from '../../daemon/store/store';

/** Closes a store's files without its clean-close work (anchor, snapshot): what kill -9 leaves. */
export function killWithout(store: Store): void {
  const internals = store as unknown as {
    journal: { close(): void };
    trail: { close(): void };
    archive: { close(): void };
    closed: boolean;
    anchorTimer: NodeJS.Timeout | null;
  };
  if (internals.anchorTimer) clearTimeout(internals.anchorTimer);
  internals.closed = true;
  internals.journal.close();
  internals.trail.close();
  internals.archive.close();
}
