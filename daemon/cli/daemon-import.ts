/**
 * Imports the built daemon (dist/daemon.js, an ES module) for `bella daemon run`. The CommonJS
 * CLI build (scripts/build-cli.ts) puts `__bella_import` in place of this module's `import()`:
 * its bundle runs in a `vm.Script` (daemon/cli/start.ts), where Node 20 gives `import()` no loader
 * without an experimental flag, so dist/cli.cjs hands in an `import()` of its own.
 */
export function importDaemon(url: string): Promise<unknown> {
  return import(url);
}
