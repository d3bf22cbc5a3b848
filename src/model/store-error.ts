// The model store's errors, shared by the IndexedDB storage (./store.ts) and the HTTP download (./download.ts).

export type ModelStoreErrorCode =
  /** The stored copy no longer matches its manifest's SHA-256 (it has been removed). */
  | 'corrupt'
  /** No such model on this device. */
  | 'missing'
  /** The bytes given or downloaded are not the file the manifest describes. */
  | 'mismatch'
  /** The manifest is not valid. */
  | 'invalid-manifest'
  /** Network failure after all retries (what was received is kept for the next attempt). */
  | 'download'
  /** The device refused to store more data. */
  | 'quota'
  /** IndexedDB is unavailable (e.g. some private browsing modes). */
  | 'unavailable';

export class ModelStoreError extends Error {
  constructor(
    readonly code: ModelStoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ModelStoreError';
  }
}

export interface StoreProgress {
  loaded: number;
  total: number;
}
