// The HTTP half of the model store: fetching a model folder's manifest, and streaming model.onnx into one
// pre-sized buffer, resuming with a Range request. It knows nothing of IndexedDB: whole chunks are handed to
// `onChunk` as they complete (the store writes them), so an interrupted download keeps what it received.
import { ModelStoreError, type StoreProgress } from './store-error';

/** The parsed manifest.json of the model folder at `base`. */
export async function fetchManifestJson(base: URL, doFetch: typeof fetch, signal?: AbortSignal): Promise<unknown> {
  try {
    const res = await doFetch(new URL('manifest.json', base), { cache: 'no-cache', ...(signal ? { signal } : {}) });
    if (!res.ok) throw new ModelStoreError('download', `The model description could not be downloaded (HTTP ${res.status}).`);
    return await res.json();
  } catch (e) {
    if (e instanceof ModelStoreError) throw e;
    if (e instanceof SyntaxError) throw new ModelStoreError('invalid-manifest', `The model description is not valid JSON (${e.message}).`);
    throw new ModelStoreError('download', `The model description could not be downloaded (${(e as Error).message}).`);
  }
}

export interface FetchIntoOptions {
  fetch: typeof fetch;
  signal?: AbortSignal;
  /** Chunk size for onChunk; `from` must be a multiple of it. */
  chunkBytes: number;
  /**
   * target[index·chunkBytes, (index+1)·chunkBytes) is complete (a view into target; copy what you keep). The last,
   * shorter chunk is not reported: the caller stores it with the verified file. Awaited before more is read.
   */
  onChunk?: (index: number, chunk: Uint8Array) => Promise<void>;
  /** The server ignored the Range request and sends the whole file again: what was kept must go. */
  onRestart?: () => Promise<void>;
  onProgress?: (p: StoreProgress) => void;
}

/**
 * Streams `url` into `target` (exactly target.byteLength bytes, the size the manifest declares), bytes [0, from)
 * being there already: asks for the rest with `Range: bytes=from-`. Throws ModelStoreError: 'download' on a network
 * failure or a short file (retry resumes), 'mismatch' when the server sends more than declared or refuses the file.
 */
export async function fetchInto(url: URL, target: Uint8Array, from: number, o: FetchIntoOptions): Promise<void> {
  const total = target.byteLength;
  let received = from;
  let response: Response;
  try {
    response = await o.fetch(url, {
      cache: 'no-store',
      ...(o.signal ? { signal: o.signal } : {}),
      headers: received > 0 ? { Range: `bytes=${received}-` } : {},
    });
  } catch (e) {
    throw new ModelStoreError('download', `The model could not be downloaded (${(e as Error).message}).`);
  }
  if (response.status === 200 && received > 0) {
    // The server ignored the Range request: start over.
    await o.onRestart?.();
    received = 0;
  } else if (response.status === 206) {
    const start = Number(/^bytes (\d+)-/.exec(response.headers.get('Content-Range') ?? '')?.[1]);
    if (start !== received) {
      await response.body?.cancel();
      await o.onRestart?.();
      throw new ModelStoreError('download', `The server resumed at byte ${start}, not ${received}.`);
    }
  } else if (!response.ok) {
    throw new ModelStoreError(
      response.status >= 500 || response.status === 408 ? 'download' : 'mismatch',
      `The model could not be downloaded (HTTP ${response.status}).`,
    );
  }
  if (!response.body) throw new ModelStoreError('download', 'The model download returned no data.');

  const { chunkBytes } = o;
  /** Bytes before this offset have been handed to onChunk. */
  let reported = received - (received % chunkBytes);
  o.onProgress?.({ loaded: received, total });
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (received + value.byteLength > total) throw new ModelStoreError('mismatch', `The server sent more than the ${total} bytes the manifest declares.`);
      target.set(value, received);
      received += value.byteLength;
      while (o.onChunk && received - reported >= chunkBytes) {
        await o.onChunk(reported / chunkBytes, target.subarray(reported, reported + chunkBytes));
        reported += chunkBytes;
      }
      o.onProgress?.({ loaded: received, total });
    }
  } catch (e) {
    await reader.cancel().catch(() => undefined);
    if (e instanceof ModelStoreError || (e as { name?: string })?.name === 'QuotaExceededError') throw e;
    // Network failure: the whole chunks already handed over stay for the next attempt.
    throw new ModelStoreError('download', `The model download was interrupted after ${received} of ${total} bytes (${(e as Error).message}).`);
  }
  if (received !== total) throw new ModelStoreError('download', `The model download stopped after ${received} of ${total} bytes.`);
}
