import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['daemon/**/*.test.ts', 'electron/**/*.test.ts', 'renderer/**/*.test.{ts,tsx}', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // No compile cache in the system's temp dir from tsx (a writer killed mid-write, the CLI
    // build) or jiti (electron-builder's configuration loader): tests leave nothing behind.
    env: { TSX_DISABLE_CACHE: '1', JITI_FS_CACHE: 'false' },
  },
});
