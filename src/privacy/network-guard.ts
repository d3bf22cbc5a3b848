// Facies promises that nothing leaves the device. The Content-Security-Policy blocks other origins at the
// browser level (as a header and as the page's own <meta>, so it holds on any host); this guard stops such requests
// earlier, in the page and in every worker the app starts, so they are never attempted (MediaPipe Tasks posts
// usage logs to a Google host and has no option to turn that off). Images and scripts from other origins are left
// to the policy: the app never creates them.

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
    // A WebSocket to this host is this origin, as the CSP's 'self' counts it.
    if (u.protocol === 'ws:' || u.protocol === 'wss:') u.protocol = u.protocol === 'ws:' ? 'http:' : 'https:';
    return u.origin === origin || u.protocol === 'blob:' || u.protocol === 'data:';
  } catch {
    return false;
  }
}

/** Thrown in place of a request to another origin. */
class BlockedRequestError extends TypeError {
  constructor(readonly origin: string) {
    super(`Facies blocked a request to ${origin}: nothing leaves this device.`);
    this.name = 'BlockedRequestError';
  }
}

const installed = new WeakSet<object>();

/**
 * Installs the guard in a window or worker scope: fetch, sendBeacon, XMLHttpRequest, WebSocket, EventSource and
 * importScripts refuse other origins before anything is sent. Call it before any other module runs (the app's
 * entry and each worker import ./install-guard first). Idempotent per scope.
 */
export function installNetworkGuard(scope: typeof globalThis = globalThis): void {
  if (installed.has(scope)) return;
  installed.add(scope);
  const origin = scope.location.origin;
  const refuse = (url: string | URL): never => {
    const other = new URL(String(url), scope.location.href ?? origin).origin;
    blocked.push({ origin: other, at: Date.now() });
    throw new BlockedRequestError(other);
  };
  const check = (url: string | URL) => {
    if (!isSameOrigin(String(url), origin)) refuse(url);
  };

  const originalFetch = scope.fetch.bind(scope);
  scope.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    try {
      check(url);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
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
  const XHR = scope.XMLHttpRequest;
  if (typeof XHR === 'function') {
    // The casts are for tsc, which sees only open()'s fixed overloads (no rest parameter to spread into); the linter's
    // checker calls them unnecessary.
    /* eslint-disable @typescript-eslint/unbound-method, @typescript-eslint/no-unnecessary-type-assertion */
    const open = XHR.prototype.open as (this: XMLHttpRequest, method: string, url: string | URL, ...rest: unknown[]) => void;
    XHR.prototype.open = function (this: XMLHttpRequest, method: string, url: string | URL, ...rest: unknown[]) {
      check(url);
      return open.call(this, method, url, ...rest);
    } as typeof XHR.prototype.open;
    /* eslint-enable @typescript-eslint/unbound-method, @typescript-eslint/no-unnecessary-type-assertion */
  }
  for (const name of ['WebSocket', 'EventSource'] as const) {
    const Original = scope[name] as unknown as (new (url: string | URL, ...rest: unknown[]) => object) | undefined;
    if (typeof Original !== 'function') continue;
    // A subclass keeps instanceof, constants and the prototype; only construction to another origin is refused.
    const Guarded = class extends Original {
      constructor(url: string | URL, ...rest: unknown[]) {
        check(url);
        super(url, ...rest);
      }
    };
    Object.defineProperty(scope, name, { value: Guarded, configurable: true, writable: true });
  }
  const importer = (scope as unknown as { importScripts?: (...urls: string[]) => void }).importScripts;
  if (typeof importer === 'function') {
    (scope as unknown as { importScripts: (...urls: string[]) => void }).importScripts = (...urls: string[]) => {
      urls.forEach(check);
      importer.apply(scope, urls);
    };
  }
}
