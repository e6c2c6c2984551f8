import { useEffect, useState } from 'react';
import type { AuditEntry } from '../../../../daemon/api/types';
import type { OperationArgs } from '../../../../daemon/api/operations';
import { bella } from '../../lib/bella';

/** Entries per page: the newest first, then "Load older" for the next page. */
export const AUDIT_PAGE = 100;

/** What is loaded of the trail for one set of filters: newest first, `nextCursor` pages on. */
export interface Loaded {
  key: string;
  entries: AuditEntry[];
  nextCursor: number | null;
}

/**
 * Merges a fresh first page into what is loaded: entries newer than the newest shown go on top, the
 * older pages stay. When the whole fresh page is newer (more arrived than a page), it starts over.
 */
export function mergeNewest(prev: Loaded | null, key: string, page: Omit<Loaded, 'key'>): Loaded {
  if (!prev || prev.key !== key) return { key, ...page };
  const top = prev.entries[0]?.seq ?? 0;
  const fresh = page.entries.filter((e) => e.seq > top);
  if (fresh.length === page.entries.length && page.nextCursor !== null && prev.entries.length > 0) {
    return { key, ...page };
  }
  return { ...prev, entries: [...fresh, ...prev.entries] };
}

/** The filters of a listing of the trail, without the paging. */
export type AuditFilter = Omit<OperationArgs<'listAudit'>, 'limit' | 'before'>;

/**
 * The trail for `filter`, newest first: the first page is fetched again whenever `rev` changes and
 * merged on top; `loadOlder` appends the next page. `current` is null until the filter's first page is in.
 */
export function useAuditTrail(filter: AuditFilter, rev: number) {
  const key = JSON.stringify(filter);
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let live = true;
    setLoading(true);
    bella()
      .listAudit({ ...filter, limit: AUDIT_PAGE })
      .then(
        (page) => {
          if (!live) return;
          setLoaded((prev) => mergeNewest(prev, key, page));
          setError(null);
        },
        (err) => live && setError(err),
      )
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
    // `key` stands for `filter`.
  }, [key, rev]);

  async function loadOlder() {
    if (!loaded || loaded.nextCursor === null) return;
    const at = loaded;
    setLoadingOlder(true);
    try {
      const page = await bella().listAudit({ ...filter, limit: AUDIT_PAGE, before: at.nextCursor as number });
      setLoaded((prev) => {
        if (!prev || prev.key !== at.key) return prev;
        const oldest = prev.entries.at(-1)?.seq ?? Infinity;
        return {
          ...prev,
          entries: [...prev.entries, ...page.entries.filter((e) => e.seq < oldest)],
          nextCursor: page.nextCursor,
        };
      });
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setLoadingOlder(false);
    }
  }

  const current = loaded && loaded.key === key ? loaded : null;
  return { current, loading, loadingOlder, error, loadOlder };
}
