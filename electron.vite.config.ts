import path from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

const root = import.meta.dirname;

export default defineConfig({
  main: {
    build: {
      outDir: path.join(root, 'out/main'),
      // Dependencies (zod, …) stay in node_modules, which the package ships.
      externalizeDeps: true,
      lib: { entry: path.join(root, 'electron/main/index.ts'), formats: ['es'], fileName: () => 'index.js' },
    },
  },
  preload: {
    build: {
      outDir: path.join(root, 'out/preload'),
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
      outDir: path.join(root, 'out/renderer'),
      emptyOutDir: true,
      rolldownOptions: { input: path.join(root, 'renderer/index.html') },
    },
  },
});
