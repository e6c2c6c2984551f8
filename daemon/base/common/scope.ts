/** Compiles scope entries (key names or `*`-globs) into one matcher. */
export function scopeMatcher(scope: string[]): (key: string) => boolean {
  const exact = new Set(scope.filter((s) => !s.includes('*')));
  const globs = scope
    .filter((s) => s.includes('*'))
    .map((s) => new RegExp(`^${s.split('*').map(escape).join('[A-Za-z0-9_]*')}$`));
  return (key) => exact.has(key) || globs.some((g) => g.test(key));
}

/** The keys a scope grants, in the order of `keys`. */
export function keysInScope(scope: string[], keys: string[]): string[] {
  return keys.filter(scopeMatcher(scope));
}

/** Scope entries that match none of `keys`: the daemon refuses a lease with any. */
export function unmatchedEntries(scope: string[], keys: string[]): string[] {
  return scope.filter((entry) => !keys.some(scopeMatcher([entry])));
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
