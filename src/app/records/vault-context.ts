// The one records session of this tab, shared by every records screen, and the React hooks that read it.
import { useEffect, useSyncExternalStore } from 'react';
import { getSettings, useSettings } from '../../settings/settings';
import { RecordsVault } from '../../records/vault';

let vault: RecordsVault | null = null;
const lockListeners = new Set<() => void>();

/**
 * Called whenever the records lock (the lock button, the inactivity timeout, another tab): the screening screen
 * clears the last patient's photo, crop, result and typed reference. Returns the unsubscribe function.
 */
export function onRecordsLocked(listener: () => void): () => void {
  lockListeners.add(listener);
  return () => lockListeners.delete(listener);
}

/** Created on first use (the records screens and the save form), not at app start. */
function getVault(): RecordsVault {
  if (!vault) {
    const v = new RecordsVault(undefined, getSettings().lockAfterMinutes * 60_000);
    vault = v;
    let previous = v.current.state.status;
    v.subscribe(() => {
      const status = v.current.state.status;
      if (previous === 'unlocked' && status === 'locked') lockListeners.forEach((l) => l());
      previous = status;
    });
    // Any touch or key press in the app counts as activity for the inactivity lock.
    for (const type of ['pointerdown', 'keydown', 'wheel'] as const) window.addEventListener(type, () => v.touch(), { passive: true, capture: true });
  }
  return vault;
}

export function useVault() {
  const v = getVault();
  const { lockAfterMinutes } = useSettings();
  useEffect(() => v.setLockAfter(lockAfterMinutes * 60_000), [v, lockAfterMinutes]);
  const { state, revision } = useSyncExternalStore(v.subscribe, () => v.current);
  return { vault: v, state, revision };
}
