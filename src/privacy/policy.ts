// The security policy, in one place: the preview server, the service worker, the page's own <meta> policy and the
// shipped nginx configuration (deploy/nginx.conf, checked against this by tests/unit/deploy-config.test.ts) all
// say the same.

/** Cross-origin isolation: multi-threaded WASM needs SharedArrayBuffer. */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * Nothing may leave the device: every fetch, script and worker comes from this origin.
 * 'wasm-unsafe-eval' is what WebAssembly compilation needs; no other eval is allowed.
 */
const CSP_DIRECTIVES: readonly string[] = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
];

export const CONTENT_SECURITY_POLICY = CSP_DIRECTIVES.join('; ');

/** The same policy for a <meta> element, which cannot carry frame-ancestors (browsers ignore it there, with a warning). */
export const META_CONTENT_SECURITY_POLICY = CSP_DIRECTIVES.filter((d) => !d.startsWith('frame-ancestors')).join('; ');
