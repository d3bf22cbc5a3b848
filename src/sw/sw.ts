// The service worker: precaches the app shell, runtimes (ORT, MediaPipe) and the face detector, and serves them
// with the security headers. The screening model is not precached: src/model/store.ts downloads and keeps it.
// A new version waits until the user chooses "Reload" (src/sw/register.ts): code never changes mid-screening.
import { CONTENT_SECURITY_POLICY } from '../privacy/policy';
import { clientsClaim } from 'workbox-core';
import { addPlugins, cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute, type PrecacheEntry } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { withSecurityHeaders } from './headers';

interface ServiceWorkerScope {
  __WB_MANIFEST: Array<PrecacheEntry | string>;
  skipWaiting(): Promise<void>;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}
declare const self: ServiceWorkerScope;

addPlugins([{ cachedResponseWillBeUsed: async ({ cachedResponse }) => cachedResponse && withSecurityHeaders(cachedResponse, CONTENT_SECURITY_POLICY) }]);
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
// Every navigation (any hash route, any developer query) gets the app shell; model folders go to the network.
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html'), { denylist: [/^\/models\//] }));
clientsClaim();

self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});
