import type pg from 'pg';

/** pg, loaded at the first database call: a daemon without databases never holds it (issue 21). */
let loaded: Promise<typeof pg> | undefined;
export function loadPg(): Promise<typeof pg> {
  loaded ??= import('pg').then(
    (mod) => ((mod as { default?: typeof pg }).default ?? mod) as typeof pg,
    (err: unknown) => {
      loaded = undefined;
      throw err;
    },
  );
  return loaded;
}

/** A short, credential-free reason of a failure from Postgres or the network, for people. */
export function pgError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const text = (e.message ?? String(err)).replace(/postgres(ql)?:\/\/[^\s]*/gi, 'postgres://…');
  return (e.code && /^[0-9A-Z]{5}$/.test(e.code) ? `${text} (SQLSTATE ${e.code})` : text).slice(0, 300);
}
