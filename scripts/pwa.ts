// The installable PWA: web app manifest and the Workbox service worker (src/sw/sw.ts, injectManifest).
import { VitePWA } from 'vite-plugin-pwa';
import type { Plugin } from 'vite';

/** The release the service worker and the About page report; FACIES_BUILD_ID distinguishes test builds. */
export const appBuild = process.env.FACIES_BUILD_ID ?? new Date().toISOString().slice(0, 16).replace('T', ' ');

export function pwaPlugins(version: string): Plugin[] {
  const defines: Plugin = {
    name: 'facies-pwa-defines',
    // The service worker build inherits the app's `define`: both read the same build id.
    config: () => ({ define: { __FACIES_VERSION__: JSON.stringify(`${version} (${appBuild})`) } }),
  };
  return [
    defines,
    ...VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src/sw',
      filename: 'sw.ts',
      injectRegister: false, // src/sw/register.ts registers it and owns the update prompt
      devOptions: { enabled: false },
      includeManifestIcons: false, // the glob below already precaches icons/
      manifest: {
        id: '/',
        name: 'Facies — syndrome screening aid',
        short_name: 'Facies',
        description: 'On-device facial screening aid for Williams–Beuren, Noonan and Alagille syndromes in children with pulmonary stenosis. Not a diagnosis.',
        lang: 'en',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'any',
        theme_color: '#0b5f7a',
        background_color: '#ffffff',
        categories: ['medical', 'health'],
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      injectManifest: {
        rollupFormat: 'iife', // a classic worker script: every browser that installs PWAs runs it
        // App shell, JS and ORT's .mjs, CSS, ORT and MediaPipe .wasm, the face detector. Not the screening model
        // (models/**): a 260 MB precache entry would make every install all-or-nothing and double storage on update.
        globPatterns: ['**/*.{html,js,mjs,css,wasm,tflite,png,svg,webmanifest}'],
        globIgnores: ['models/**', '**/*.map'],
        // The largest runtime file is ORT's WebGPU build, 26 MB: allow 32 MiB, deliberately, and no more.
        maximumFileSizeToCacheInBytes: 32 * 1024 * 1024,
        // Vite's hashed assets need no revision query.
        dontCacheBustURLsMatching: /^assets\/.+-[A-Za-z0-9_-]{8}\./,
      },
    }),
  ];
}
