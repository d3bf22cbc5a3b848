import { defaultClientConditions, type Plugin, type Connect } from 'vite';
import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pwaPlugins } from './scripts/pwa.ts';
import { linkOrCopy } from './scripts/link-or-copy.ts';
import { CONTENT_SECURITY_POLICY, ISOLATION_HEADERS, META_CONTENT_SECURITY_POLICY } from './src/privacy/policy.ts';

/**
 * The policy as a <meta> element in the built index.html, so it holds on any static host (the preview server, the
 * service worker and deploy/nginx.conf also send it as a header). Not in the dev server, whose React refresh
 * injects inline scripts.
 */
function metaPolicy(): Plugin {
  return {
    name: 'facies-meta-csp',
    apply: 'build',
    transformIndexHtml: () => [
      { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: META_CONTENT_SECURITY_POLICY }, injectTo: 'head-prepend' },
    ],
  };
}

const modelsDir = resolve(import.meta.dirname, 'models');
const MODEL_FILES: Record<string, string> = { 'manifest.json': 'application/json', 'model.onnx': 'application/octet-stream' };

/** Serves generated model folders (models/<id>/{manifest.json,model.onnx}) under /models/ in dev and preview. */
function serveModels(): Connect.NextHandleFunction {
  return (req, res, next) => {
    const match = /^\/([a-z0-9-]+)\/(manifest\.json|model\.onnx)$/.exec((req.url ?? '').split('?')[0]!);
    if (!match) return next();
    const file = join(modelsDir, match[1]!, match[2]!);
    if (!existsSync(file)) return next();
    const size = statSync(file).size;
    // Range requests let an interrupted model download resume (src/model/store.ts).
    const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
    res.setHeader('Content-Type', MODEL_FILES[match[2]!]!);
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Cache-Control', 'no-cache');
    for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
    if (start > 0 && start < size) {
      res.statusCode = 206;
      res.setHeader('Content-Range', `bytes ${start}-${size - 1}/${size}`);
    }
    res.setHeader('Content-Length', String(size - (res.statusCode === 206 ? start : 0)));
    createReadStream(file, { start: res.statusCode === 206 ? start : 0 }).pipe(res);
  };
}

/** Model folders marked "bundled" in their config.json ship with the production build. */
function bundledModels(): string[] {
  return readdirSync(modelsDir).filter((id) => {
    const config = join(modelsDir, id, 'config.json');
    return existsSync(config) && JSON.parse(readFileSync(config, 'utf8')).bundled === true;
  });
}

function modelsPlugin(): Plugin {
  let outDir = 'dist';
  let building = false;
  return {
    name: 'facies-models',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
      // Vitest also closes a bundle (into a dummy folder): only a real production build ships models.
      building = config.command === 'build' && !process.env.VITEST;
    },
    configureServer(server) {
      server.middlewares.use('/models', serveModels());
    },
    configurePreviewServer(server) {
      server.middlewares.use('/models', serveModels());
    },
    closeBundle() {
      if (!building) return;
      for (const id of bundledModels()) {
        const target = join(outDir, 'models', id);
        mkdirSync(target, { recursive: true });
        for (const f of Object.keys(MODEL_FILES)) {
          const from = join(modelsDir, id, f);
          if (!existsSync(from)) throw new Error(`models/${id}/${f} is missing: run "npm run prepare:assets"`);
          linkOrCopy(from, join(target, f));
        }
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), modelsPlugin(), metaPolicy(), ...pwaPlugins(JSON.parse(readFileSync(resolve(import.meta.dirname, 'package.json'), 'utf8')).version)],
  // ORT's runtime files are self-hosted from /vendor/ort/ (see scripts/prepare-assets.ts): use the builds that
  // load them from there instead of the bundles that embed a second copy of the 14–27 MB .wasm in assets/.
  resolve: { conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  worker: { format: 'es' },
  server: {
    port: 5173,
    // The dev server injects inline scripts (React refresh), so it gets isolation but not the strict CSP.
    headers: ISOLATION_HEADERS,
  },
  preview: {
    // FACIES_PORT lets several checkouts or test runs share a machine.
    port: Number(process.env.FACIES_PORT ?? 4173),
    headers: { ...ISOLATION_HEADERS, 'Content-Security-Policy': CONTENT_SECURITY_POLICY },
  },
  build: {
    outDir: process.env.FACIES_DIST ?? 'dist',
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
  },
  test: {
    include: ['src/**/*.test.ts', 'tests/**/*.test.ts', 'models/**/*.test.ts'],
    environment: 'node',
  },
});
