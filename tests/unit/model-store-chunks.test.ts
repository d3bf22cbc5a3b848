// How the model store keeps and reassembles chunks (issue 17): each stored chunk is exactly one chunk (not the whole
// download buffer), reads go chunk by chunk into one buffer, and a missing chunk is caught.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { exampleManifest } from './fixtures/manifest';
import { CHUNK_BYTES, closeModelStore, downloadModel, MODEL_DB_NAME, pendingDownloadBytes, readModelBytes, storeModel } from '../../src/model/store';
import { requestUrl } from './fixtures/request-url';

function modelFile(size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = 5;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function rawDb(): Promise<IDBDatabase> {
  const req = indexedDB.open(MODEL_DB_NAME);
  return new Promise((res, rej) => ((req.onsuccess = () => res(req.result)), (req.onerror = () => rej(req.error ?? new Error('IndexedDB request failed')))));
}

async function chunkSizes(): Promise<number[]> {
  const idb = await rawDb();
  const req = idb.transaction('chunks').objectStore('chunks').getAll();
  const all = await new Promise<ArrayBuffer[]>((r) => (req.onsuccess = () => r(req.result as ArrayBuffer[])));
  idb.close();
  return all.map((c) => c.byteLength);
}

async function deleteChunk(key: [string, string, number]) {
  const idb = await rawDb();
  const tx = idb.transaction('chunks', 'readwrite');
  tx.objectStore('chunks').delete(key);
  await new Promise((r) => (tx.oncomplete = r));
  idb.close();
}

const serve = (manifest: unknown, file: Uint8Array, dropAfter?: number) => {
  let drops = dropAfter === undefined ? 0 : 1;
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (requestUrl(input).endsWith('manifest.json')) return new Response(JSON.stringify(manifest));
    const range = new Headers(init?.headers).get('Range');
    const start = range ? Number(/bytes=(\d+)-/.exec(range)![1]) : 0;
    const body = file.subarray(start);
    const limit = drops-- > 0 ? dropAfter! : Infinity;
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= limit) return c.error(new TypeError('network connection lost'));
        if (sent >= body.byteLength) return c.close();
        const n = Math.min(1 << 20, body.byteLength - sent, limit - sent);
        c.enqueue(body.slice(sent, sent + n));
        sent += n;
      },
    });
    return new Response(stream, {
      status: start > 0 ? 206 : 200,
      headers: start > 0 ? { 'Content-Range': `bytes ${start}-${file.byteLength - 1}/${file.byteLength}` } : {},
    });
  }) as typeof fetch;
};

afterEach(async () => {
  await closeModelStore();
  await new Promise((r) => {
    const req = indexedDB.deleteDatabase(MODEL_DB_NAME);
    req.onsuccess = req.onerror = r;
  });
});

describe('model store chunks', { timeout: 30_000 }, () => {
  it('stores each downloaded chunk as exactly that chunk, the last one shorter', async () => {
    const file = modelFile(CHUNK_BYTES * 2 + 123);
    await downloadModel('http://h/m/', { fetch: serve(await exampleManifest(file), file) });
    expect((await chunkSizes()).sort((a, b) => b - a)).toEqual([CHUNK_BYTES, CHUNK_BYTES, 123]);
  });

  it('stores an import in chunks and reads it back into one buffer of the declared size', async () => {
    const file = modelFile(CHUNK_BYTES + 9);
    await storeModel(await exampleManifest(file), file);
    expect((await chunkSizes()).sort((a, b) => b - a)).toEqual([CHUNK_BYTES, 9]);
    const { bytes } = await readModelBytes('hospital-ps', '1.0.0');
    expect(bytes.byteLength).toBe(file.byteLength);
    expect(bytes.buffer.byteLength).toBe(file.byteLength); // no over-allocation
    expect(Buffer.from(bytes).equals(Buffer.from(file))).toBe(true);
  });

  it('treats a missing middle chunk as a damaged copy: removed, never returned', async () => {
    const file = modelFile(CHUNK_BYTES * 2 + 1);
    await storeModel(await exampleManifest(file), file);
    await deleteChunk(['hospital-ps', '1.0.0', 1]);
    await expect(readModelBytes('hospital-ps', '1.0.0')).rejects.toMatchObject({ code: 'corrupt' });
    await expect(readModelBytes('hospital-ps', '1.0.0')).rejects.toMatchObject({ code: 'missing' });
  });

  it('resumes from the chunks that are really there when one recorded as received is gone', async () => {
    const file = modelFile(CHUNK_BYTES * 3 + 7);
    const manifest = await exampleManifest(file);
    const fetchFn = serve(manifest, file, CHUNK_BYTES * 2 + 10);
    await expect(downloadModel('http://h/m/', { fetch: fetchFn, retries: 0 })).rejects.toMatchObject({ code: 'download' });
    expect(await pendingDownloadBytes('hospital-ps', '1.0.0')).toBe(CHUNK_BYTES * 2);
    await deleteChunk(['hospital-ps', '1.0.0', 1]);
    const got = await downloadModel('http://h/m/', { fetch: fetchFn, retries: 0 });
    expect(Buffer.from(got.bytes).equals(Buffer.from(file))).toBe(true);
    expect(Buffer.from((await readModelBytes('hospital-ps', '1.0.0')).bytes).equals(Buffer.from(file))).toBe(true);
  });
});
