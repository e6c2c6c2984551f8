import { AUDIT_EVENTS, OUTCOMES, type AuditEntry } from '../../api/types';

/** What a service hands to the audit trail; sequence, time and chain are added when it is written. */
export type AuditInput = Omit<AuditEntry, 'seq' | 'ts' | 'hash'> & {
  /** When it happened, if not now (e.g. an expiry applied after a restart). */
  at?: number;
};

/** An entry as stored: the API entry without its check, plus the commit it was written with. */
export type StoredEntry = Omit<AuditEntry, 'hash'> & {
  /** The journal commit this entry was written with; absent for reads, which commit no state. */
  commit?: number;
};

/**
 * The stored form of an input: `seq` first (verification reads it from the payload's start).
 * `nowIso` is the time of the whole batch, for entries that carry no time of their own.
 */
export function storedEntry(input: AuditInput, seq: number, nowIso: string, commit: number | undefined): StoredEntry {
  // Most entries carry no time of their own: copied once, not once without `at` and again.
  if (!('at' in input))
    return commit === undefined ? { seq, ts: nowIso, ...input } : { seq, ts: nowIso, ...input, commit };
  const { at, ...fields } = input;
  const ts = at === undefined ? nowIso : new Date(at).toISOString();
  return commit === undefined ? { seq, ts, ...fields } : { seq, ts, ...fields, commit };
}

/** The entry as the API shows it: the stored fields and its keyed hash, without internal tags. */
export function toAuditEntry(stored: StoredEntry, check: string): AuditEntry {
  const { commit: _commit, ...fields } = stored;
  return { ...fields, hash: check };
}

/**
 * The sequence number at the start of a stored payload (`{"seq":N,…`), without parsing it all;
 * the payload is `buf[start, end)` (all of `buf` by default).
 */
export function seqOf(buf: Buffer, start = 0, end = buf.length): number {
  let n = 0;
  const digits = start + 7; // after `{"seq":`
  let i = digits;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) break;
    n = n * 10 + (c - 0x30);
  }
  return i > digits && i < end && buf[i] === 0x2c ? n : -1;
}

/** 32-bit FNV-1a of a string; never 0, which the index uses for "no value". */
export function hash32(text: string): number {
  const h = fnv1a(0x811c9dc5, text) >>> 0;
  return h === 0 ? 1 : h;
}

/** {@link hash32} of `${project}/${environment}`, without building that string. */
export function hash32Env(project: string, environment: string): number {
  const h = fnv1a(Math.imul(fnv1a(0x811c9dc5, project) ^ 0x2f, 0x01000193), environment) >>> 0;
  return h === 0 ? 1 : h;
}

function fnv1a(h: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

const EVENT_CODES = new Map((AUDIT_EVENTS as readonly string[]).map((e, i) => [e, i + 1]));
const OUTCOME_CODES = new Map((OUTCOMES as readonly string[]).map((o, i) => [o, i + 1]));

/** The index codes of an entry's enumerated fields (1-based; 0 = absent). */
export function eventCode(event: string): number {
  return EVENT_CODES.get(event) ?? 0;
}

export function outcomeCode(outcome: string): number {
  return OUTCOME_CODES.get(outcome) ?? 0;
}
