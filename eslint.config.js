import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import bella from './eslint/layers.js';

// The layers, lowest first: a layer never imports one above it. Keys are repository folders (or
// modules, without extension); a file belongs to the longest key that holds it, imports freely
// within its own layer, and otherwise only what its entry lists. bench/, test/, scripts/, root
// files and *.test.ts are no layer and import anything.
//
// Mechanism: the local rule in eslint/layers.js (as VS Code's `code-layering`) resolves each
// relative import to the file it lands on. `no-restricted-imports` matches specifier text, so a
// layer rule would need a pattern per folder depth (`../store`, `../../store`, …); the plugins
// that resolve paths (eslint-plugin-boundaries, import-x `no-restricted-paths`) add a resolver
// with a native binding for ~100 lines of ours, and no-restricted-paths cannot allow type-only
// imports, which the renderer's rule needs.

/** The parts of the contract free of zod, which the renderer, preload and IPC contract may load as values. */
const SCHEMA_FREE = [
  'types',
  'durations',
  'events',
  'errors',
  'routes',
  'channels',
  'fingerprint',
  'origin',
  'dotenv',
  'handover',
  'ci',
  'history',
  'team',
  'databases',
  'requests',
].map((m) => `daemon/api/${m}`);
const API_BASE = ['daemon/api', 'daemon/base'];
/** What the renderer may load as values from outside it. */
const RENDERER_CONTRACT = [...SCHEMA_FREE, 'daemon/base/common'];

/** @type {Record<string, import('./eslint/layers.js').Layer>} */
const layers = {
  // The contract imports nothing of ours; its schema-free modules not even zod.
  'daemon/api': { imports: SCHEMA_FREE, node: false },
  ...Object.fromEntries(SCHEMA_FREE.map((m) => [m, { imports: SCHEMA_FREE, node: false, packages: [] }])),
  'daemon/base/common': { imports: [], node: false },
  'daemon/base/node': { imports: ['daemon/base/common'], packages: [] },
  'daemon/store': { imports: API_BASE },
  'daemon/notify': { imports: API_BASE },
  'daemon/channels': { imports: ['daemon/notify', ...API_BASE] },
  'daemon/services': { imports: ['daemon/store', 'daemon/notify', 'daemon/channels', ...API_BASE] },
  // The composition root: everything of the daemon, never its client or the CLI.
  'daemon/server': {
    imports: ['daemon/services', 'daemon/store', 'daemon/notify', 'daemon/channels', ...API_BASE, 'package.json'],
  },
  'daemon/client': { imports: API_BASE },
  // The CLI's helpers (session, output, token plane, …) never reach a command but through the table.
  'daemon/cli': {
    imports: ['daemon/cli/framework', 'daemon/cli/definitions', 'daemon/client', ...API_BASE, 'package.json'],
  },
  // bella's commands, one file per group (spec beside actions): the helpers, the framework, the
  // client, the contract; never the daemon's own layers.
  'daemon/cli/commands': { imports: ['daemon/cli', 'daemon/client', ...API_BASE] },
  // The table that lists the command groups.
  'daemon/cli/definitions': { imports: ['daemon/cli/commands', 'daemon/cli/framework'] },
  // The command-line framework (command tables, parser, help): nothing of bella's CLI, its client
  // or Node; only the contract's duration grammar, which its duration options read.
  'daemon/cli/framework': { imports: ['daemon/api/durations'], node: false, packages: [] },
  // What main, preload and renderer agree on; main and preload import it, never each other.
  'electron/ipc': { imports: SCHEMA_FREE, importsTypes: ['daemon/api'], node: false, packages: [] },
  'electron/main': { imports: ['electron/ipc', 'daemon/api', 'daemon/client', 'daemon/base'], electron: true },
  // Test fakes of main: they may use main, main may not use them (so they are never bundled).
  'electron/main/testing': { imports: ['electron/main', 'electron/ipc', 'daemon/api', 'daemon/client', 'daemon/base'] },
  // Sandboxed: it can load nothing but electron, so no Node and no zod.
  'electron/preload': {
    imports: ['electron/ipc', ...SCHEMA_FREE, 'daemon/base/common'],
    importsTypes: ['daemon/api'],
    node: false,
    electron: true,
  },
  // Types of the whole contract; values only from its schema-free modules (docs/decisions.md, "Layers").
  // Inside the renderer, lib (data, events, formatting, useAction) → components (Table, dialogs, controls) →
  // features and App: a building block never imports a screen.
  'renderer/src/lib': { imports: RENDERER_CONTRACT, importsTypes: ['daemon/api'], node: false },
  'renderer/src/components': {
    imports: ['renderer/src/lib', ...RENDERER_CONTRACT],
    importsTypes: ['daemon/api'],
    node: false,
  },
  renderer: {
    imports: ['renderer/src/lib', 'renderer/src/components', ...RENDERER_CONTRACT],
    importsTypes: ['daemon/api'],
    node: false,
  },
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', 'release/', 'bench/results/', 'docs/screenshots/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    plugins: { bella },
    rules: { 'bella/layers': ['error', { root: import.meta.dirname, layers }] },
  },
  {
    files: ['**/*.test.ts', '**/*.test.tsx'],
    rules: { 'bella/layers': 'off' },
  },
  // Only LeaseChanges adds, removes or marks a lease, so every transaction that touches one goes
  // through the lease lifecycle, its timers and its events (docs/decisions.md, "The lease lifecycle").
  {
    files: ['daemon/**/*.ts'],
    ignores: ['daemon/store/**', 'daemon/services/lease-changes.ts', '**/*.test.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='touched'][callee.property.name='lease']",
          message: 'Change leases inside lifecycle.transact, through LeaseChanges (daemon/services/lease-changes.ts).',
        },
        {
          selector: "CallExpression[callee.object.property.name='leases'][callee.property.name=/^(set|delete|clear)$/]",
          message: 'Change leases inside lifecycle.transact, through LeaseChanges (daemon/services/lease-changes.ts).',
        },
      ],
    },
  },
);
