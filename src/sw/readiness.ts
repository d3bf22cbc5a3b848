// Is everything needed to screen without network stored on this device?

export type OfflinePart = 'app' | 'runtimes' | 'model';

export interface OfflineFacts {
  /** A service worker controls the page: the app shell and its code are served from the cache. */
  app: boolean;
  /** ONNX Runtime, MediaPipe and the face detector are in the cache. */
  runtimes: boolean;
  /** The active screening model is in the model store, verified. */
  model: boolean;
}

export interface OfflineReadiness {
  ready: boolean;
  /** What is still missing, in the order a user would fix it. */
  missing: OfflinePart[];
}

export function offlineReadiness(facts: OfflineFacts): OfflineReadiness {
  const missing = (['app', 'runtimes', 'model'] as const).filter((part) => !facts[part]);
  return { ready: missing.length === 0, missing };
}

/** Files without which nothing runs offline (precached by the service worker). */
export const OFFLINE_RUNTIME_FILES = [
  '/vendor/ort/ort-wasm-simd-threaded.mjs',
  '/vendor/ort/ort-wasm-simd-threaded.wasm',
  '/vendor/mediapipe/wasm/vision_wasm_internal.wasm',
  '/vendor/mediapipe/face_detection_short_range.tflite',
];

/** True when every runtime file is in Cache Storage (precache entries carry a revision query: ignored). */
export async function runtimesCached(cacheStorage: CacheStorage | undefined = globalThis.caches): Promise<boolean> {
  if (!cacheStorage) return false;
  const found = await Promise.all(OFFLINE_RUNTIME_FILES.map((f) => cacheStorage.match(f, { ignoreSearch: true }).then((r) => !!r)));
  return found.every(Boolean);
}
