// Facies promises that nothing leaves the device. The Content-Security-Policy blocks other origins at the
// browser level; this guard stops such requests earlier, in the page itself, so they are never attempted
// (MediaPipe Tasks posts usage logs to a Google host and has no option to turn that off).

export interface BlockedRequest {
  origin: string;
  at: number;
}

const blocked: BlockedRequest[] = [];

export function blockedRequests(): readonly BlockedRequest[] {
  return blocked;
}

export function isSameOrigin(url: string, origin: string): boolean {
  try {
    const u = new URL(url, origin);
    return u.origin === origin || u.protocol === 'blob:' || u.protocol === 'data:';
  } catch {
    return false;
  }
}

export function installNetworkGuard(scope: typeof globalThis = globalThis): void {
  const origin = scope.location.origin;
  const originalFetch = scope.fetch.bind(scope);
  scope.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!isSameOrigin(url, origin)) {
      blocked.push({ origin: new URL(url, origin).origin, at: Date.now() });
      return Promise.reject(new TypeError(`Facies blocked a request to ${new URL(url, origin).origin}: nothing leaves this device.`));
    }
    return originalFetch(input, init);
  };
  if (typeof scope.navigator?.sendBeacon === 'function') {
    scope.navigator.sendBeacon = (url: string | URL) => {
      if (!isSameOrigin(String(url), origin)) {
        blocked.push({ origin: new URL(String(url), origin).origin, at: Date.now() });
        return false;
      }
      return false; // Facies itself never beacons.
    };
  }
}
