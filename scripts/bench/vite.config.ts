// The production build plus one extra page, the benchmark page, which drives the app's own modules stage by stage.
import { defineConfig, mergeConfig } from 'vite';
import { resolve } from 'node:path';
import appConfig from '../../vite.config.ts';

const root = resolve(import.meta.dirname, '../..');

export default defineConfig(
  mergeConfig(appConfig, {
    root,
    build: {
      outDir: process.env.FACIES_DIST ?? 'dist-bench',
      rollupOptions: { input: { main: resolve(root, 'index.html'), bench: resolve(root, 'scripts/bench/page/index.html') } },
    },
  }),
);
