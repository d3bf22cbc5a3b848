// Responses the service worker serves from its cache must carry the same security headers as the server's:
// without COOP/COEP an offline page loses crossOriginIsolated (and multi-threaded WASM), and without the CSP it
// loses the "nothing leaves this device" guarantee. The cache may hold responses from a host that sent neither.

import { ISOLATION_HEADERS } from '../privacy/policy';

/** A copy of the response with the isolation headers and, on documents and scripts, the Content-Security-Policy. */
export function withSecurityHeaders(response: Response, contentSecurityPolicy: string): Response {
  // Opaque and error responses cannot be rewritten; they are not ours to serve anyway.
  if (response.type === 'opaque' || response.type === 'opaqueredirect' || response.status === 0) return response;
  const headers = new Headers(response.headers);
  for (const [k, v] of Object.entries(ISOLATION_HEADERS)) headers.set(k, v);
  const type = headers.get('Content-Type') ?? '';
  if (/text\/html|javascript/.test(type)) headers.set('Content-Security-Policy', contentSecurityPolicy);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
