/** `1 lease`, `3 leases`; `many` for a plural that is not the word with an `s`: `2 entries`. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
