// The production build plus one extra page, the benchmark page, which drives the app's own modules stage by stage.
import { defineConfig, mergeConfig, type ConfigEnv } from 'vite';
import { resolve } from 'node:path';
import appConfig from '../../vite.config.ts';

const root = resolve(import.meta.dirname, '../..');

export default defineConfig((env: ConfigEnv) =>
  mergeConfig(appConfig(env), {
    root,
    build: {
      outDir: process.env.FACIES_DIST ?? 'dist-bench',
      rollupOptions: { input: { main: resolve(root, 'index.html'), bench: resolve(root, 'scripts/bench/page/index.html') } },
    },
  }),
);
