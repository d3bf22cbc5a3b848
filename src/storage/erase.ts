// "Erase all data on this device": every IndexedDB database (models, case records and whatever other features
// create), every Cache Storage cache (the service worker's precache included), localStorage, sessionStorage,
// and the service worker registration itself. Afterwards the app is as on a first visit.

export interface EraseReport {
  databases: string[];
  caches: string[];
  serviceWorkers: number;
}

/** Names of every IndexedDB database of this origin; `known` covers browsers without indexedDB.databases(). */
async function databaseNames(known: readonly string[]): Promise<string[]> {
  const listed = typeof indexedDB.databases === 'function' ? (await indexedDB.databases()).map((d) => d.name).filter((n): n is string => !!n) : [];
  return [...new Set([...listed, ...known])];
}

function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(name);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error ?? new Error(`Could not delete ${name}`));
    // Another tab keeps it open: the deletion completes once that tab closes it (our own connections close
    // themselves on "versionchange"). Resolve now rather than hang; the database is marked for deletion.
    req.onblocked = () => resolve();
  });
}

export async function eraseAllData(knownDatabases: readonly string[] = []): Promise<EraseReport> {
  const databases = typeof indexedDB === 'undefined' ? [] : await databaseNames(knownDatabases);
  for (const name of databases) await deleteDatabase(name);
  const cacheNames = typeof caches === 'undefined' ? [] : await caches.keys();
  for (const name of cacheNames) await caches.delete(name);
  try {
    localStorage.clear();
    sessionStorage.clear();
  } catch {
    /* storage disabled: nothing stored there */
  }
  const registrations = 'serviceWorker' in navigator ? await navigator.serviceWorker.getRegistrations() : [];
  for (const r of registrations) await r.unregister();
  return { databases, caches: cacheNames, serviceWorkers: registrations.length };
}

/**
 * Whether a reload can fetch the app again. After erasing, nothing is left to start Facies offline: a reload without
 * network would leave the browser's "No internet" page. HEAD is not routed by the service worker, so this asks the
 * server itself.
 */
export async function appReachable(path = location.pathname): Promise<boolean> {
  try {
    return (await fetch(path, { method: 'HEAD', cache: 'no-store' })).ok;
  } catch {
    return false;
  }
}
