// The page's side of the service worker: registers it (production builds only), and tells the UI when a new
// version is waiting. The new version takes over only when the user chooses to reload.
import { Workbox } from 'workbox-window';
import { useSyncExternalStore } from 'react';

export interface AppUpdateState {
  /** A service worker controls this page: the app shell is served offline. */
  controlled: boolean;
  /** A new version is installed and waiting for "Reload". */
  updateWaiting: boolean;
  /** Registration failed (e.g. private mode); the app still works online. */
  error?: string;
}

let state: AppUpdateState = { controlled: typeof navigator !== 'undefined' && !!navigator.serviceWorker?.controller, updateWaiting: false };
const listeners = new Set<() => void>();
let wb: Workbox | null = null;
/** Only this tab's own "Reload" reloads it: an update accepted in another tab must not interrupt a screening here. */
let reloadRequested = false;

function set(patch: Partial<AppUpdateState>) {
  state = { ...state, ...patch };
  for (const l of listeners) l();
}

export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator) || wb) return;
  wb = new Workbox('/sw.js', { scope: '/' });
  wb.addEventListener('waiting', () => set({ updateWaiting: true }));
  wb.addEventListener('controlling', () => {
    if (reloadRequested) location.reload();
    set({ controlled: true });
  });
  navigator.serviceWorker.addEventListener('controllerchange', () => set({ controlled: !!navigator.serviceWorker.controller }));
  wb.register().catch((e: unknown) => set({ error: (e as Error).message }));
}

/** The user chose to switch to the waiting version: it activates, then the page reloads (see 'controlling'). */
export function applyUpdate(): void {
  reloadRequested = true;
  if (wb && state.updateWaiting) wb.messageSkipWaiting();
  else location.reload();
}

export function useAppUpdate(): AppUpdateState {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => state,
  );
}

export const appVersion = (): string => (typeof __FACIES_VERSION__ === 'string' ? __FACIES_VERSION__ : 'dev');
