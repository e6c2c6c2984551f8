/** True when `key` matches a scope entry: an exact key or a `*`-glob such as `STRIPE_*`. */
export function scopeMatches(entry: string, key: string): boolean {
  if (!entry.includes('*')) return entry === key;
  const re = new RegExp(`^${entry.split('*').map(escape).join('.*')}$`);
  return re.test(key);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The keys a scope grants, in the order of `keys`. */
export function keysInScope(scope: string[], keys: string[]): string[] {
  return keys.filter((k) => scope.some((entry) => scopeMatches(entry, k)));
}

/** Splits typed scope text (`A, B STRIPE_*`) into entries, dropping duplicates. */
export function parseScopeText(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter(Boolean))];
}

/** A scope entry as typed is valid: letters, digits, underscores and `*`. */
export function isScopeEntry(s: string): boolean {
  return /^[A-Za-z0-9_*]+$/.test(s) && s.length <= 256;
}
