import { describe, expect, it } from 'vitest';
import { OFFLINE_RUNTIME_FILES, offlineReadiness, runtimesCached } from '../../src/sw/readiness';
import { withSecurityHeaders } from '../../src/sw/headers';

describe('offline readiness', () => {
  it('is ready only when the app, the runtimes and the model are all stored', () => {
    expect(offlineReadiness({ app: true, runtimes: true, model: true })).toEqual({ ready: true, missing: [] });
    expect(offlineReadiness({ app: true, runtimes: true, model: false })).toEqual({ ready: false, missing: ['model'] });
    expect(offlineReadiness({ app: false, runtimes: false, model: false }).missing).toEqual(['app', 'runtimes', 'model']);
  });

  it('checks every runtime file in Cache Storage, ignoring precache revision queries', async () => {
    const cached = new Set(OFFLINE_RUNTIME_FILES);
    const storage = {
      match: async (url: string, opts?: { ignoreSearch?: boolean }) => (opts?.ignoreSearch && cached.has(url) ? new Response('x') : undefined),
    } as unknown as CacheStorage;
    expect(await runtimesCached(storage)).toBe(true);
    cached.delete('/vendor/ort/ort-wasm-simd-threaded.wasm');
    expect(await runtimesCached(storage)).toBe(false);
    expect(await runtimesCached(undefined)).toBe(false);
  });
});

describe('service worker response headers', () => {
  const csp = "default-src 'self'";
  it('adds COOP/COEP/CORP to every cached response and the CSP to documents and scripts', async () => {
    const html = withSecurityHeaders(new Response('<!doctype html>', { headers: { 'Content-Type': 'text/html' } }), csp);
    expect(html.headers.get('Cross-Origin-Opener-Policy')).toBe('same-origin');
    expect(html.headers.get('Cross-Origin-Embedder-Policy')).toBe('require-corp');
    expect(html.headers.get('Content-Security-Policy')).toBe(csp);
    expect(await html.text()).toBe('<!doctype html>');
    const worker = withSecurityHeaders(new Response('self.x=1', { headers: { 'Content-Type': 'text/javascript' } }), csp);
    expect(worker.headers.get('Content-Security-Policy')).toBe(csp);
    expect(worker.headers.get('Cross-Origin-Embedder-Policy')).toBe('require-corp');
    const wasm = withSecurityHeaders(new Response(new Uint8Array([0, 97, 115, 109]), { headers: { 'Content-Type': 'application/wasm' } }), csp);
    expect(wasm.headers.get('Cross-Origin-Resource-Policy')).toBe('same-origin');
    expect(wasm.headers.get('Content-Security-Policy')).toBeNull();
    expect(wasm.headers.get('Content-Type')).toBe('application/wasm');
  });

  it('keeps the status of what it serves', () => {
    const notFound = withSecurityHeaders(new Response('no', { status: 404, statusText: 'Not Found' }), csp);
    expect([notFound.status, notFound.statusText]).toEqual([404, 'Not Found']);
  });
});
