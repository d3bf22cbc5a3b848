import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { verifyModelBytes } from '../../src/model/manifest';
import { exampleManifest } from './fixtures/manifest';
import {
  CHUNK_BYTES,
  closeModelStore,
  deleteModel,
  downloadModel,
  listStoredModels,
  MODEL_DB_NAME,
  ModelStoreError,
  pendingDownloadBytes,
  pruneOtherVersions,
  readModelBytes,
  storeModel,
} from '../../src/model/store';
import { requestUrl } from './fixtures/request-url';

// Every SHA-256 the store computes, counted (the real hasher underneath).
const hashes = vi.hoisted(() => ({ count: 0 }));
vi.mock('hash-wasm', async (importOriginal) => {
  const real = await importOriginal<typeof import('hash-wasm')>();
  return {
    ...real,
    createSHA256: (...args: Parameters<typeof real.createSHA256>) => {
      hashes.count += 1;
      return real.createSHA256(...args);
    },
  };
});

/** Deterministic pseudo-random bytes: a stand-in model file whose hash we know. */
function modelFile(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

// A fixture, not the contract: the store relies on validateManifest for what a manifest must hold.
const manifestFor = (bytes: Uint8Array, version = '1.0.0', id = 'hospital-ps') => exampleManifest(bytes, { id, version });

/** A model folder served over HTTP, with Range support, that can drop the connection after `failAfter` bytes. */
function modelServer(manifest: unknown, file: Uint8Array, opts: { failAfter?: number[]; ignoreRange?: boolean } = {}) {
  const requests: { url: string; range: string | null }[] = [];
  const failures = [...(opts.failAfter ?? [])];
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = requestUrl(input);
    const range = new Headers(init?.headers).get('Range');
    requests.push({ url, range });
    if (url.endsWith('/manifest.json')) return new Response(JSON.stringify(manifest), { headers: { 'Content-Type': 'application/json' } });
    if (!url.endsWith('/model.onnx')) return new Response('not found', { status: 404 });
    const start = range && !opts.ignoreRange ? Number(/bytes=(\d+)-/.exec(range)![1]) : 0;
    const body = file.subarray(start);
    const failAt = failures.shift();
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (failAt !== undefined && sent >= failAt) return controller.error(new TypeError('network connection lost'));
        if (sent >= body.byteLength) return controller.close();
        const n = Math.min(1 << 20, body.byteLength - sent, failAt !== undefined ? failAt - sent : Infinity);
        controller.enqueue(body.slice(sent, sent + n));
        sent += n;
      },
    });
    const headers: Record<string, string> = { 'Content-Length': String(body.byteLength) };
    if (start > 0) headers['Content-Range'] = `bytes ${start}-${file.byteLength - 1}/${file.byteLength}`;
    return new Response(stream, { status: start > 0 ? 206 : 200, headers });
  }) as typeof fetch;
  return { fetch: fetchFn, requests };
}

async function flipByte(id: string, version: string, chunk: number, at: number) {
  const req = indexedDB.open(MODEL_DB_NAME);
  const idb = await new Promise<IDBDatabase>(
    (res, rej) => ((req.onsuccess = () => res(req.result)), (req.onerror = () => rej(req.error ?? new Error('IndexedDB request failed')))),
  );
  const tx = idb.transaction('chunks', 'readwrite');
  const store = tx.objectStore('chunks');
  const get = store.get([id, version, chunk]);
  await new Promise((r) => (get.onsuccess = r));
  const data = new Uint8Array(get.result as ArrayBuffer);
  data[at] = data[at]! ^ 0xff;
  store.put(data.buffer, [id, version, chunk]);
  await new Promise((r) => (tx.oncomplete = r));
  idb.close();
}

afterEach(async () => {
  await closeModelStore();
  await new Promise((r) => {
    const req = indexedDB.deleteDatabase(MODEL_DB_NAME);
    req.onsuccess = req.onerror = r;
  });
});

describe('model store', { timeout: 30_000 }, () => {
  it('stores a verified model in chunks, lists it, and reads back the same bytes', async () => {
    const file = modelFile(CHUNK_BYTES * 2 + 12345);
    const manifest = await manifestFor(file);
    const progress: number[] = [];
    const info = await storeModel(manifest, file, { onProgress: (p) => progress.push(p.loaded) });
    expect(info).toMatchObject({ id: 'hospital-ps', version: '1.0.0', bytes: file.byteLength, source: 'import', demonstration: true });
    expect(progress).toEqual([CHUNK_BYTES, CHUNK_BYTES * 2, file.byteLength]);
    expect((await listStoredModels()).map((m) => `${m.id}@${m.version}`)).toEqual(['hospital-ps@1.0.0']);
    const read = await readModelBytes('hospital-ps', '1.0.0');
    expect(read.manifest.file.sha256).toBe(manifest.file.sha256);
    expect(Buffer.from(read.bytes).equals(Buffer.from(file))).toBe(true);
  });

  it('re-importing the same version keeps the working copy until the new one is complete: a full disk loses nothing', async () => {
    const first = modelFile(CHUNK_BYTES + 100, 1);
    await storeModel(await manifestFor(first), first);
    const second = modelFile(CHUNK_BYTES * 2 + 100, 2);
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with apply(this, …)
    const put = IDBObjectStore.prototype.put;
    let puts = 0;
    // The device refuses the second chunk of the new copy.
    IDBObjectStore.prototype.put = function (...args: Parameters<IDBObjectStore['put']>) {
      if (this.name === 'chunks' && ++puts === 2) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return put.apply(this, args);
    };
    try {
      await expect(storeModel(await manifestFor(second), second)).rejects.toMatchObject({ code: 'quota' });
    } finally {
      IDBObjectStore.prototype.put = put;
    }
    expect(Buffer.from((await readModelBytes('hospital-ps', '1.0.0')).bytes).equals(Buffer.from(first))).toBe(true);
    // With room, the new copy replaces the old one, and the old chunks are gone.
    await storeModel(await manifestFor(second), second);
    expect(Buffer.from((await readModelBytes('hospital-ps', '1.0.0')).bytes).equals(Buffer.from(second))).toBe(true);
    await deleteModel('hospital-ps', '1.0.0');
    const left = await new Promise<number>((resolve) => {
      const req = indexedDB.open(MODEL_DB_NAME);
      req.onsuccess = () => {
        const count = req.result.transaction('chunks').objectStore('chunks').count();
        count.onsuccess = () => (req.result.close(), resolve(count.result));
      };
    });
    expect(left).toBe(0);
  });

  it('refuses bytes that do not match the manifest, and stores nothing', async () => {
    const file = modelFile(5000);
    const manifest = await manifestFor(file);
    const tampered = file.slice();
    tampered[100] = tampered[100]! ^ 1;
    await expect(storeModel(manifest, tampered)).rejects.toMatchObject({ code: 'mismatch' });
    await expect(storeModel(manifest, file.subarray(0, 4999))).rejects.toMatchObject({ code: 'mismatch' });
    await expect(storeModel({ ...manifest, id: 'Bad Id' }, file)).rejects.toMatchObject({ code: 'invalid-manifest' });
    expect(await listStoredModels()).toEqual([]);
  });

  it('hashes a package import once: the buffer the package check verified is stored without a second digest', async () => {
    const file = modelFile(CHUNK_BYTES + 100, 3);
    const manifest = await manifestFor(file);
    const before = hashes.count;
    await verifyModelBytes(manifest, file);
    expect(hashes.count - before).toBe(1);
    await storeModel(manifest, file);
    expect(hashes.count - before).toBe(1);
    // A copy (or a buffer checked against another hash) is hashed again; reading back always is.
    await storeModel(manifest, file.slice());
    expect(hashes.count - before).toBe(2);
    expect(Buffer.from((await readModelBytes(manifest.id, manifest.version)).bytes).equals(Buffer.from(file))).toBe(true);
    expect(hashes.count - before).toBe(3);
  });

  it('detects a corrupted stored copy on read, removes it, and never returns its bytes', async () => {
    const file = modelFile(CHUNK_BYTES + 10);
    await storeModel(await manifestFor(file), file);
    await flipByte('hospital-ps', '1.0.0', 1, 3);
    const err = await readModelBytes('hospital-ps', '1.0.0').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelStoreError);
    expect((err as ModelStoreError).code).toBe('corrupt');
    expect((err as Error).message).toMatch(/damaged.*removed/);
    expect(await listStoredModels()).toEqual([]);
    await expect(readModelBytes('hospital-ps', '1.0.0')).rejects.toMatchObject({ code: 'missing' });
  });

  it('keeps the old version while a new one is stored, and prunes it only on request', async () => {
    const v1 = modelFile(3000, 1);
    const v2 = modelFile(4000, 2);
    await storeModel(await manifestFor(v1, '1.0.0'), v1);
    // A new version that fails verification leaves the old one untouched.
    await expect(storeModel(await manifestFor(v2, '2.0.0'), v1)).rejects.toMatchObject({ code: 'mismatch' });
    await storeModel(await manifestFor(v2, '2.0.0'), v2);
    expect((await listStoredModels()).map((m) => m.version).sort()).toEqual(['1.0.0', '2.0.0']);
    await expect(pruneOtherVersions('hospital-ps', '3.0.0')).rejects.toMatchObject({ code: 'missing' });
    expect(await pruneOtherVersions('hospital-ps', '2.0.0')).toEqual(['1.0.0']);
    expect((await listStoredModels()).map((m) => m.version)).toEqual(['2.0.0']);
    expect((await readModelBytes('hospital-ps', '2.0.0')).bytes.byteLength).toBe(4000);
    await deleteModel('hospital-ps', '2.0.0');
    expect(await listStoredModels()).toEqual([]);
  });
});

describe('model download', { timeout: 30_000 }, () => {
  it('downloads with progress, verifies, stores, and then serves later starts from the store', async () => {
    const file = modelFile(CHUNK_BYTES + 777);
    const manifest = await manifestFor(file, '0.1.0', 'facies-demo');
    const server = modelServer(manifest, file);
    const progress: number[] = [];
    const first = await downloadModel('http://app.test/models/demo/', { fetch: server.fetch, onProgress: (p) => progress.push(p.loaded) });
    expect(first.downloaded).toBe(true);
    expect(Buffer.from(first.bytes).equals(Buffer.from(file))).toBe(true);
    expect(first.info.source).toBe('http://app.test/models/demo/');
    expect(progress.at(-1)).toBe(file.byteLength);
    expect(progress.every((v, i) => i === 0 || v >= progress[i - 1]!)).toBe(true);

    const second = await downloadModel('http://app.test/models/demo/', { fetch: server.fetch });
    expect(second.downloaded).toBe(false);
    expect(server.requests.filter((r) => r.url.endsWith('model.onnx'))).toHaveLength(1);
  });

  it('reports a damaged stored copy instead of using it, then downloads a fresh one on the next try', async () => {
    const file = modelFile(CHUNK_BYTES + 3);
    const server = modelServer(await manifestFor(file), file);
    await downloadModel('http://app.test/m/', { fetch: server.fetch });
    await flipByte('hospital-ps', '1.0.0', 0, 0);
    await expect(downloadModel('http://app.test/m/', { fetch: server.fetch })).rejects.toMatchObject({ code: 'corrupt' });
    const again = await downloadModel('http://app.test/m/', { fetch: server.fetch });
    expect(again.downloaded).toBe(true);
    expect(Buffer.from(again.bytes).equals(Buffer.from(file))).toBe(true);
  });

  it('resumes an interrupted download with a Range request and never exposes the half file', async () => {
    const file = modelFile(CHUNK_BYTES * 3 + 5);
    const manifest = await manifestFor(file);
    // First attempt: the connection drops after 2.5 chunks; two whole chunks are kept.
    const flaky = modelServer(manifest, file, { failAfter: [CHUNK_BYTES * 2.5] });
    await expect(downloadModel('http://app.test/m/', { fetch: flaky.fetch, retries: 0 })).rejects.toMatchObject({ code: 'download' });
    expect(await listStoredModels()).toEqual([]);
    await expect(readModelBytes('hospital-ps', '1.0.0')).rejects.toMatchObject({ code: 'missing' });
    expect(await pendingDownloadBytes('hospital-ps', '1.0.0')).toBe(CHUNK_BYTES * 2);

    // Retry (e.g. after reload): only the rest is fetched.
    const result = await downloadModel('http://app.test/m/', { fetch: flaky.fetch, retries: 0 });
    expect(flaky.requests.filter((r) => r.url.endsWith('model.onnx')).map((r) => r.range)).toEqual([null, `bytes=${CHUNK_BYTES * 2}-`]);
    expect(Buffer.from(result.bytes).equals(Buffer.from(file))).toBe(true);
    expect(Buffer.from((await readModelBytes('hospital-ps', '1.0.0')).bytes).equals(Buffer.from(file))).toBe(true);
    expect(await pendingDownloadBytes('hospital-ps', '1.0.0')).toBe(0);
  });

  it('retries by itself after a dropped connection', async () => {
    const file = modelFile(CHUNK_BYTES + 100);
    const server = modelServer(await manifestFor(file), file, { failAfter: [CHUNK_BYTES + 10] });
    const result = await downloadModel('http://app.test/m/', { fetch: server.fetch, retries: 2, retryDelayMs: 1 });
    expect(result.downloaded).toBe(true);
    expect(server.requests.filter((r) => r.url.endsWith('model.onnx')).map((r) => r.range)).toEqual([null, `bytes=${CHUNK_BYTES}-`]);
  });

  it('starts over when the server ignores the Range request', async () => {
    const file = modelFile(CHUNK_BYTES * 2 + 1);
    const server = modelServer(await manifestFor(file), file, { failAfter: [CHUNK_BYTES + 1], ignoreRange: true });
    const result = await downloadModel('http://app.test/m/', { fetch: server.fetch, retries: 1, retryDelayMs: 1 });
    expect(Buffer.from(result.bytes).equals(Buffer.from(file))).toBe(true);
  });

  it('rejects a tampered model file and leaves nothing behind', async () => {
    const file = modelFile(CHUNK_BYTES + 50);
    const manifest = await manifestFor(file);
    const tampered = file.slice();
    tampered[CHUNK_BYTES + 7] = tampered[CHUNK_BYTES + 7]! ^ 0x10;
    const server = modelServer(manifest, tampered);
    const err = await downloadModel('http://app.test/m/', { fetch: server.fetch }).catch((e: unknown) => e);
    expect((err as ModelStoreError).code).toBe('mismatch');
    expect((err as Error).message).toMatch(/SHA-256/);
    expect(await listStoredModels()).toEqual([]);
    expect(await pendingDownloadBytes('hospital-ps', '1.0.0')).toBe(0);
  });

  it('reports an unreachable server as a download error', async () => {
    const offline = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    await expect(downloadModel('http://app.test/m/', { fetch: offline })).rejects.toMatchObject({ code: 'download' });
  });
});
