// A browser that refuses storage (no IndexedDB, as in some private modes): the model is still fetched and verified
// for this visit, only not kept. No fake-indexeddb here, on purpose.
import { describe, expect, it } from 'vitest';
import { exampleManifest } from './fixtures/manifest';
import { downloadModel, listStoredModels } from '../../src/model/store';
import { requestUrl } from './fixtures/request-url';

describe('model store without IndexedDB', () => {
  const file = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) % 251);
  const serve = (manifest: unknown, bytes: Uint8Array) =>
    (async (input: RequestInfo | URL) =>
      requestUrl(input).endsWith('manifest.json') ? new Response(JSON.stringify(manifest)) : new Response(bytes as Uint8Array<ArrayBuffer>)) as typeof fetch;

  it('downloads and verifies the model without storing it', async () => {
    expect(typeof indexedDB).toBe('undefined');
    const manifest = await exampleManifest(file, { id: 'm', version: '1.0.0' });
    const progress: number[] = [];
    const got = await downloadModel('http://h/models/m/', { fetch: serve(manifest, file), onProgress: (p) => progress.push(p.loaded) });
    expect(got.bytes).toEqual(file);
    expect(got.downloaded).toBe(false);
    expect(progress.at(-1)).toBe(file.length);
    await expect(listStoredModels()).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('still refuses a file that is not the one its manifest describes', async () => {
    const manifest = await exampleManifest(file, { id: 'm', version: '1.0.0' });
    const tampered = file.slice();
    tampered[10] = tampered[10]! ^ 1;
    await expect(downloadModel('http://h/models/m/', { fetch: serve(manifest, tampered) })).rejects.toMatchObject({ code: 'mismatch' });
  });
});
