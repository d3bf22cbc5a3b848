// The shipped nginx configuration (deploy/facies-site.conf), as a hospital's server sends it: isolation and privacy
// headers on everything, long caching only for hashed bundles, none for the app shell and the service worker,
// module scripts typed, and Range requests for the model files.
import { test, expect } from '@playwright/test';
import { CONTENT_SECURITY_POLICY } from '../../src/privacy/policy';

test('headers, caching, types and ranges as the app needs them', async ({ request, baseURL }) => {
  const index = await request.get('/');
  expect(index.headers()['cross-origin-opener-policy']).toBe('same-origin');
  expect(index.headers()['cross-origin-embedder-policy']).toBe('require-corp');
  expect(index.headers()['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
  expect(index.headers()['cache-control']).toBe('no-cache');
  expect(index.headers()['server']).toBe('nginx');
  // The page carries the policy itself too, for hosts that send no header.
  expect(await index.text()).toContain('<meta http-equiv="Content-Security-Policy"');
  expect((await request.get('/sw.js')).headers()['cache-control']).toBe('no-cache');
  const bundle = /src="(\/assets\/[^"]+\.js)"/.exec(await index.text())![1]!;
  const asset = await request.get(bundle);
  expect(asset.headers()['cache-control']).toMatch(/max-age=\d{6,}/);
  expect(asset.headers()['cross-origin-resource-policy']).toBe('same-origin');
  const mjs = await request.get('/vendor/ort/ort-wasm-simd-threaded.mjs');
  expect(mjs.headers()['content-type']).toMatch(/^text\/javascript/);
  expect((await request.get('/vendor/ort/ort-wasm-simd-threaded.wasm')).headers()['content-type']).toBe('application/wasm');
  const part = await request.get('/models/demo/model.onnx', { headers: { Range: 'bytes=100-199' } });
  expect(part.status()).toBe(206);
  expect(part.headers()['content-range']).toMatch(/^bytes 100-199\/\d+$/);
  expect((await part.body()).length).toBe(100);
  console.log(`nginx at ${baseURL}: ${index.headers()['server']}, CSP and isolation on every response`);
});
