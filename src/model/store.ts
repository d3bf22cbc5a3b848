// The model store: the single owner of model files on this device. Works on the main thread and in workers.
//
// IndexedDB database "facies-models":
//   models    [id, version]        → StoredModelRecord (written only after the bytes were verified)
//   chunks    [id, version, index] → ArrayBuffer, CHUNK_BYTES each (the last one shorter)
//   downloads [id, version]        → DownloadProgress of an interrupted download, resumed from `received`
// A model is usable only once its `models` record exists, and that record is written in the same transaction as
// the last chunk, after the SHA-256 of the whole file matched its manifest: a half or corrupt model is never read.
// Every read verifies the SHA-256 again; a copy that fails is removed and never handed out.
// Storing a new version never touches the old one; `pruneOtherVersions` removes it once the new one is verified.
//
// Memory: a model is ~131 MB. Reading it, the chunks go one at a time (a cursor) into one buffer of the declared size;
// downloading, the response streams into such a buffer (./download.ts), each whole chunk written as it completes.
// One reassembly (readChunksInto) and one hash check (verify) serve reads, resumed downloads and imports. The hash
// (hash-wasm, see sha256Hex) makes no whole-file copy as WebCrypto's digest does; a read hashes each chunk while
// IndexedDB fetches the next, and frees IndexedDB's copy of it once it is in the buffer (freeNow).
import { openDB, type DBSchema, type IDBPDatabase, type IDBPObjectStore, type StoreNames } from 'idb';
import { fetchInto, fetchManifestJson } from './download';
import { sha256Hasher, sha256Hex, validateManifest, ManifestError, wasVerified, type ModelManifest, type Sha256Hasher } from './manifest';
import { freeNow } from '../platform/free-now';
import { ModelStoreError, type StoreProgress } from './store-error';

export { ModelStoreError, type ModelStoreErrorCode, type StoreProgress } from './store-error';

export const MODEL_DB_NAME = 'facies-models';
const DB_VERSION = 1;
/** Each chunk is one IndexedDB write: small enough to keep progress and resume fine-grained, large enough to be fast. */
export const CHUNK_BYTES = 8 << 20;

export interface StoredModelInfo {
  id: string;
  version: string;
  name: string;
  demonstration: boolean;
  sha256: string;
  bytes: number;
  /** Epoch ms when the verified copy was stored. */
  storedAt: number;
  /** Where it came from: the model folder URL it was downloaded from, or "import" for a hospital model package. */
  source: string;
}

interface StoredModelRecord extends StoredModelInfo {
  manifest: ModelManifest;
  chunkCount: number;
  /**
   * The second part of this copy's chunk keys ([id, chunkKey, index]): the version, or for a copy stored over an
   * earlier copy of the same version, "<version>#<n>", so the new copy is written beside the old one and the
   * switch (record + removal of the old chunks) is one transaction.
   */
  chunkKey?: string;
}

interface DownloadProgress {
  id: string;
  version: string;
  sha256: string;
  bytes: number;
  /** Bytes already in `chunks`, always a multiple of CHUNK_BYTES. */
  received: number;
  source: string;
}

interface ModelDb extends DBSchema {
  models: { key: [string, string]; value: StoredModelRecord };
  chunks: { key: [string, string, number]; value: ArrayBuffer };
  downloads: { key: [string, string]; value: DownloadProgress };
}

let dbPromise: Promise<IDBPDatabase<ModelDb>> | null = null;

function db(): Promise<IDBPDatabase<ModelDb>> {
  if (!dbPromise) {
    if (typeof indexedDB === 'undefined')
      return Promise.reject(new ModelStoreError('unavailable', 'This browser does not allow storing data (IndexedDB is unavailable).'));
    dbPromise = openDB<ModelDb>(MODEL_DB_NAME, DB_VERSION, {
      upgrade(d) {
        d.createObjectStore('models');
        d.createObjectStore('chunks');
        d.createObjectStore('downloads');
      },
      // "Erase all data" deletes this database: let it go, and reopen on the next use.
      blocking(_current, _blocked, event) {
        (event.target as IDBDatabase).close();
        dbPromise = null;
      },
      terminated() {
        dbPromise = null;
      },
    }).catch((e: unknown) => {
      dbPromise = null;
      throw new ModelStoreError('unavailable', `The model store could not be opened (${(e as Error).message}).`);
    });
  }
  return dbPromise;
}

/** Closes this context's connection (tests, and before deleting the database). */
export async function closeModelStore(): Promise<void> {
  const p = dbPromise;
  dbPromise = null;
  if (p) (await p.catch(() => null))?.close();
}

const chunkRange = (id: string, chunkKey: string) => IDBKeyRange.bound([id, chunkKey, 0], [id, chunkKey, Number.MAX_SAFE_INTEGER]);
/** Chunks of every copy of a version: [id, version, *] and [id, "version#…", *]. */
const allCopiesRange = (id: string, version: string) => IDBKeyRange.bound([id, version, 0], [id, `${version}#\uffff`, Number.MAX_SAFE_INTEGER]);

function toInfo(r: StoredModelRecord): StoredModelInfo {
  const { id, version, name, demonstration, sha256, bytes, storedAt, source } = r;
  return { id, version, name, demonstration, sha256, bytes, storedAt, source };
}

function asStoreError(e: unknown): Error {
  if (e instanceof ModelStoreError) return e;
  const name = (e as { name?: string })?.name;
  if (name === 'QuotaExceededError')
    return new ModelStoreError('quota', 'There is not enough storage space on this device for the model. Free some space and try again.');
  return e instanceof Error ? e : new Error(String(e));
}

/** `sha256`: the bytes' hash where the caller computed it while reading them (readChunksInto). */
async function verify(manifest: ModelManifest, bytes: Uint8Array, sha256?: string): Promise<void> {
  if (bytes.byteLength === manifest.file.bytes && wasVerified(bytes, manifest.file.sha256)) return; // a package's, just checked
  if (bytes.byteLength !== manifest.file.bytes)
    throw new ModelStoreError(
      'mismatch',
      `The model file is ${bytes.byteLength} bytes but its manifest declares ${manifest.file.bytes}: it is incomplete or not the file this manifest describes.`,
    );
  const actual = sha256 ?? (await sha256Hex(bytes));
  if (actual !== manifest.file.sha256)
    throw new ModelStoreError(
      'mismatch',
      `The model file's SHA-256 is ${actual} but its manifest declares ${manifest.file.sha256}: the file was altered or corrupted.`,
    );
}

/** All verified models on this device, newest first. */
export async function listStoredModels(): Promise<StoredModelInfo[]> {
  const all = await (await db()).getAll('models');
  return all.map(toInfo).sort((a, b) => b.storedAt - a.storedAt);
}

export async function getStoredManifest(id: string, version: string): Promise<ModelManifest | null> {
  return (await (await db()).get('models', [id, version]))?.manifest ?? null;
}

/**
 * Stores a model after checking its bytes against the manifest. Other versions of the same model are kept
 * (remove them with pruneOtherVersions once this one is in use). Replaces an existing copy of the same version.
 */
export async function storeModel(
  manifestJson: unknown,
  bytes: Uint8Array,
  { source = 'import', onProgress }: { source?: string; onProgress?: (p: StoreProgress) => void } = {},
): Promise<StoredModelInfo> {
  const manifest = parseManifest(manifestJson);
  await verify(manifest, bytes);
  const d = await db();
  const { id, version } = manifest;
  // A copy of this version already here stays usable until the new one is complete (a full disk must not lose it).
  const previous = await d.get('models', [id, version]);
  const chunkKey = previous ? `${version}#${Date.now()}` : version;
  const total = bytes.byteLength;
  let index = 0;
  for (let offset = 0; offset < total; offset += CHUNK_BYTES, index++) {
    const last = offset + CHUNK_BYTES >= total;
    try {
      const tx = d.transaction(last ? ['chunks', 'models'] : ['chunks'], 'readwrite');
      putChunk(tx.objectStore('chunks'), bytes.subarray(offset, Math.min(total, offset + CHUNK_BYTES)), [id, chunkKey, index]);
      if (last) {
        void tx.objectStore('models').put(record(manifest, source, index + 1, chunkKey), [id, version]);
        if (previous) void tx.objectStore('chunks').delete(chunkRange(id, previous.chunkKey ?? version));
      }
      await tx.done;
    } catch (e) {
      await d.delete('chunks', chunkRange(id, chunkKey)).catch(() => undefined);
      throw asStoreError(e);
    }
    onProgress?.({ loaded: Math.min(total, offset + CHUNK_BYTES), total });
  }
  return toInfo(record(manifest, source, index, chunkKey));
}

function record(manifest: ModelManifest, source: string, chunkCount: number, chunkKey = manifest.version): StoredModelRecord {
  return {
    ...(chunkKey !== manifest.version ? { chunkKey } : {}),
    id: manifest.id,
    version: manifest.version,
    name: manifest.name,
    demonstration: manifest.demonstration,
    sha256: manifest.file.sha256,
    bytes: manifest.file.bytes,
    storedAt: Date.now(),
    source,
    manifest,
    chunkCount,
  };
}

function parseManifest(json: unknown): ModelManifest {
  try {
    return validateManifest(json);
  } catch (e) {
    throw new ModelStoreError('invalid-manifest', e instanceof ManifestError ? e.message : String(e));
  }
}

/**
 * The model's bytes, verified against its manifest's SHA-256 on every read. A copy that fails the check is
 * deleted and a ModelStoreError('corrupt') is thrown: corrupt bytes are never returned.
 */
export async function readModelBytes(id: string, version: string): Promise<{ manifest: ModelManifest; bytes: Uint8Array }> {
  const d = await db();
  // Before the transaction: it would end (no request pending) while the hasher's WebAssembly compiles.
  const hasher = await sha256Hasher();
  // Record and chunks in one transaction: a copy stored over this one meanwhile cannot pull the chunks away.
  const tx = d.transaction(['models', 'chunks'], 'readonly');
  const rec = await tx.objectStore('models').get([id, version]);
  if (!rec) throw new ModelStoreError('missing', `The model ${id} ${version} is not stored on this device.`);
  const bytes = new Uint8Array(rec.bytes);
  const read = await readChunksInto(tx.objectStore('chunks'), id, rec.chunkKey ?? version, bytes, rec.chunkCount, hasher);
  await tx.done.catch(() => undefined);
  try {
    if (read.chunks !== rec.chunkCount) throw new ModelStoreError('mismatch', `${read.chunks} of ${rec.chunkCount} parts are present.`);
    if (read.bytes !== rec.bytes) throw new ModelStoreError('mismatch', `${read.bytes} of ${rec.bytes} bytes are present.`);
    await verify(rec.manifest, bytes, hasher.hex());
  } catch (e) {
    await deleteModel(id, version);
    throw new ModelStoreError(
      'corrupt',
      `The copy of ${rec.name} ${version} stored on this device is damaged (${(e as Error).message}) It has been removed and will not be used.`,
    );
  }
  return { manifest: rec.manifest, bytes };
}

/**
 * THE reassembly: chunks [0, count) of one copy, read one at a time with a cursor straight into `target` (never all
 * at once: that would hold the model twice). Stops at the first missing index or at a chunk that would overflow.
 * With `hasher`, each chunk is hashed while IndexedDB fetches the next one: a cold start of the demo model measured
 * 2.79–3.04 s so, against 2.72–3.04 s with WebCrypto's digest afterwards and 2.89–3.40 s with this hash afterwards.
 */
type ChunkStore = IDBPObjectStore<ModelDb, ArrayLike<StoreNames<ModelDb>>, 'chunks', 'readonly' | 'readwrite'>;

/**
 * Queues the write of one chunk: a copy of exactly its bytes (storing the view would clone the whole buffer it
 * views), freed at once, since put() has already cloned it.
 */
function putChunk(
  chunkStore: IDBPObjectStore<ModelDb, ArrayLike<StoreNames<ModelDb>>, 'chunks', 'readwrite'>,
  chunk: Uint8Array,
  key: [string, string, number],
): void {
  const copy = chunk.slice().buffer;
  void chunkStore.put(copy, key);
  freeNow(copy);
}
async function readChunksInto(
  chunkStore: ChunkStore,
  id: string,
  chunkKey: string,
  target: Uint8Array,
  count: number,
  hasher?: Sha256Hasher,
): Promise<{ chunks: number; bytes: number }> {
  if (count <= 0) return { chunks: 0, bytes: 0 };
  let cursor = await chunkStore.openCursor(IDBKeyRange.bound([id, chunkKey, 0], [id, chunkKey, count - 1]));
  let chunks = 0;
  let offset = 0;
  while (cursor) {
    const index = cursor.key[2];
    const data = cursor.value;
    if (index !== chunks || offset + data.byteLength > target.byteLength) break;
    target.set(new Uint8Array(data), offset);
    const next = cursor.continue(); // asked for first: IndexedDB reads it while this chunk is hashed
    hasher?.update(target.subarray(offset, offset + data.byteLength));
    offset += data.byteLength;
    freeNow(data); // IndexedDB's copy of this chunk: the model is in `target` now
    chunks++;
    cursor = await next;
  }
  return { chunks, bytes: offset };
}

/** Removes one model version, and any unfinished download of it. */
export async function deleteModel(id: string, version: string): Promise<void> {
  const tx = (await db()).transaction(['models', 'chunks', 'downloads'], 'readwrite');
  void tx.objectStore('models').delete([id, version]);
  void tx.objectStore('downloads').delete([id, version]);
  void tx.objectStore('chunks').delete(allCopiesRange(id, version));
  await tx.done;
}

/** Removes every other version of a model, once `keepVersion` is verified and stored. */
export async function pruneOtherVersions(id: string, keepVersion: string): Promise<string[]> {
  const d = await db();
  if (!(await d.getKey('models', [id, keepVersion])))
    throw new ModelStoreError('missing', `Refusing to remove older versions of ${id}: version ${keepVersion} is not stored.`);
  const others = (await d.getAll('models')).filter((r) => r.id === id && r.version !== keepVersion).map((r) => r.version);
  const partials = (await d.getAll('downloads')).filter((r) => r.id === id && r.version !== keepVersion).map((r) => r.version);
  const removed = [...new Set([...others, ...partials])];
  for (const v of removed) await deleteModel(id, v);
  return others;
}

/** Bytes already received of an interrupted download of this model (0 when none). */
export async function pendingDownloadBytes(id: string, version: string): Promise<number> {
  return (await (await db()).get('downloads', [id, version]))?.received ?? 0;
}

export interface DownloadOptions {
  onProgress?: (p: StoreProgress) => void;
  /** Attempts after a network failure, each resuming where the last stopped. */
  retries?: number;
  retryDelayMs?: number;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

/**
 * Makes the model in a folder (manifest.json + model.onnx at `baseUrl`) available on this device: fetches the
 * manifest, and unless this exact file is already stored, downloads it (resuming an interrupted download with an
 * HTTP Range request, retrying after network failures), verifies it and stores it. Returns the verified bytes,
 * so the caller does not read 260 MB back. Older versions are kept.
 */
export async function downloadModel(
  baseUrl: string,
  options: DownloadOptions = {},
): Promise<{ info: StoredModelInfo; manifest: ModelManifest; bytes: Uint8Array; downloaded: boolean }> {
  const doFetch = options.fetch ?? fetch;
  const base = new URL(baseUrl, globalThis.location?.href);
  const manifest = parseManifest(await fetchManifestJson(base, doFetch, options.signal));
  const { id, version } = manifest;
  let d: IDBPDatabase<ModelDb>;
  try {
    d = await db();
  } catch (e) {
    // No storage on this browser (private browsing): the model is fetched and verified for this visit only.
    if (e instanceof ModelStoreError && e.code === 'unavailable') return { ...(await downloadUnstored(manifest, base, doFetch, options)), downloaded: false };
    throw e;
  }
  const existing = await d.get('models', [id, version]);
  if (existing && existing.sha256 === manifest.file.sha256) {
    // A damaged copy is removed and reported (ModelStoreError 'corrupt'), not silently replaced: the user is told,
    // and the next call downloads a fresh one.
    const read = await readModelBytes(id, version);
    return { info: toInfo(existing), manifest: read.manifest, bytes: read.bytes, downloaded: false };
  }
  const source = base.href;
  const url = new URL(manifest.file.name, base);
  const retries = options.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    try {
      const bytes = await downloadInto(d, manifest, source, url, doFetch, options);
      const info = (await d.get('models', [id, version]))!;
      return { info: toInfo(info), manifest, bytes, downloaded: true };
    } catch (e) {
      if (!(e instanceof ModelStoreError && e.code === 'download') || attempt >= retries || options.signal?.aborted) throw e;
      await new Promise((r) => setTimeout(r, (options.retryDelayMs ?? 1000) * 2 ** attempt));
    }
  }
}

/** The whole file in memory, verified against the manifest; nothing is stored. */
async function downloadUnstored(
  manifest: ModelManifest,
  base: URL,
  doFetch: typeof fetch,
  options: DownloadOptions,
): Promise<{ info: StoredModelInfo; manifest: ModelManifest; bytes: Uint8Array }> {
  const bytes = new Uint8Array(manifest.file.bytes);
  await fetchInto(new URL(manifest.file.name, base), bytes, 0, { fetch: doFetch, chunkBytes: CHUNK_BYTES, ...fetchOptions(options) });
  await verify(manifest, bytes);
  return { info: toInfo(record(manifest, base.href, 0)), manifest, bytes };
}

const fetchOptions = ({ signal, onProgress }: DownloadOptions) => ({ ...(signal ? { signal } : {}), ...(onProgress ? { onProgress } : {}) });

/**
 * Downloads into the store: the file streams into one buffer of the declared size, and each whole chunk is written
 * (with the download's progress) as it completes. A resumed download first reads the chunks it kept into that
 * buffer (readChunksInto). The last chunk and the model record are written only after the SHA-256 matched.
 */
async function downloadInto(
  d: IDBPDatabase<ModelDb>,
  manifest: ModelManifest,
  source: string,
  url: URL,
  doFetch: typeof fetch,
  options: DownloadOptions,
): Promise<Uint8Array> {
  const { id, version } = manifest;
  const total = manifest.file.bytes;
  let progress = await d.get('downloads', [id, version]);
  if (!progress || progress.sha256 !== manifest.file.sha256 || progress.received > total || progress.received % CHUNK_BYTES !== 0) {
    await deleteModel(id, version);
    progress = { id, version, sha256: manifest.file.sha256, bytes: total, received: 0, source };
    await d.put('downloads', progress, [id, version]);
  }
  const bytes = new Uint8Array(total);
  let received = progress.received;
  if (received > 0) {
    const kept = await readChunksInto(d.transaction('chunks', 'readonly').store, id, version, bytes, received / CHUNK_BYTES);
    if (kept.bytes !== received) {
      // Fewer chunks than recorded: keep what is contiguous.
      received = kept.chunks * CHUNK_BYTES;
      await d.put('downloads', { ...progress, received }, [id, version]);
    }
  }
  const state = progress;
  try {
    await fetchInto(url, bytes, received, {
      fetch: doFetch,
      chunkBytes: CHUNK_BYTES,
      ...fetchOptions(options),
      async onChunk(index, chunk) {
        try {
          const tx = d.transaction(['chunks', 'downloads'], 'readwrite');
          putChunk(tx.objectStore('chunks'), chunk, [id, version, index]);
          void tx.objectStore('downloads').put({ ...state, received: (index + 1) * CHUNK_BYTES }, [id, version]);
          await tx.done;
        } catch (e) {
          throw asStoreError(e);
        }
      },
      async onRestart() {
        await d.delete('chunks', chunkRange(id, version));
        await d.put('downloads', { ...state, received: 0 }, [id, version]);
      },
    });
    // Verify the whole file before it becomes usable; the record is written with the last chunk.
    await verify(manifest, bytes);
  } catch (e) {
    if (e instanceof ModelStoreError && e.code === 'mismatch') await deleteModel(id, version);
    throw e;
  }
  const whole = Math.floor(total / CHUNK_BYTES);
  const tail = total - whole * CHUNK_BYTES;
  const tx = d.transaction(['chunks', 'downloads', 'models'], 'readwrite');
  if (tail > 0) putChunk(tx.objectStore('chunks'), bytes.subarray(whole * CHUNK_BYTES), [id, version, whole]);
  void tx.objectStore('downloads').delete([id, version]);
  void tx.objectStore('models').put(record(manifest, source, whole + (tail > 0 ? 1 : 0)), [id, version]);
  try {
    await tx.done;
  } catch (e) {
    throw asStoreError(e);
  }
  options.onProgress?.({ loaded: total, total });
  return bytes;
}
