import { SCOPE_ENTRY_PATTERN } from '../../../daemon/api/types';

/** Splits typed scope text (`A, B STRIPE_*`) into entries, dropping duplicates. */
export function parseScopeText(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter(Boolean))];
}

/** A scope entry as typed is one the contract accepts: a key name or a `*`-glob. */
export function isScopeEntry(s: string): boolean {
  return SCOPE_ENTRY_PATTERN.test(s) && s.length <= 256;
}
