/**
 * How dist/cli.cjs (daemon/cli/start.ts) wraps the CLI bundle before compiling it, and how the
 * build wraps it to make its code cache (the two must be the same text): Node's CommonJS wrapper,
 * plus `__bella_import`, an `import()` from outside the `vm.Script` (daemon/cli/daemon-import.ts).
 */
export function wrapBundle(source: string): string {
  return `(function (exports, require, module, __filename, __dirname, __bella_import) {${source}\n})`;
}
