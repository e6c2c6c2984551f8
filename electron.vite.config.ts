import path from 'node:path';
import { defineConfig, type UserConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

/** bella's build of main, preload and renderer from the repository at `root` into `out`. */
export function bellaConfig(root: string, out = path.join(root, 'out')): UserConfig {
  return {
    main: {
      build: {
        outDir: path.join(out, 'main'),
        // Dependencies (zod, …) stay in node_modules, which the package ships.
        externalizeDeps: true,
        lib: { entry: path.join(root, 'electron/main/index.ts'), formats: ['es'], fileName: () => 'index.js' },
      },
    },
    preload: {
      build: {
        outDir: path.join(out, 'preload'),
        // A sandboxed preload can only require('electron'): bundle everything, emit CommonJS.
        externalizeDeps: false,
        lib: { entry: path.join(root, 'electron/preload/index.ts'), formats: ['cjs'], fileName: () => 'index.cjs' },
        rolldownOptions: { output: { entryFileNames: 'index.cjs' } },
      },
    },
    renderer: {
      root: path.join(root, 'renderer'),
      base: './',
      plugins: [react()],
      build: {
        outDir: path.join(out, 'renderer'),
        emptyOutDir: true,
        rolldownOptions: { input: path.join(root, 'renderer/index.html') },
      },
    },
  };
}

export default defineConfig(bellaConfig(import.meta.dirname));
