/** Compiles scope entries (key names or `*`-globs) into one matcher. */
export function scopeMatcher(scope: string[]): (key: string) => boolean {
  const exact = new Set(scope.filter((s) => !s.includes('*')));
  const globs = scope
    .filter((s) => s.includes('*'))
    .map((s) => new RegExp(`^${s.split('*').map(escape).join('[A-Za-z0-9_]*')}$`));
  return (key) => exact.has(key) || globs.some((g) => g.test(key));
}

/** Scope entries that match none of `keys`. */
export function unmatchedEntries(scope: string[], keys: string[]): string[] {
  return scope.filter((entry) => {
    const match = scopeMatcher([entry]);
    return !keys.some(match);
  });
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
