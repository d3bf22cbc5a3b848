// The HTTP half of the model store (src/model/download.ts): streaming into one pre-sized buffer, whole chunks
// handed over as they complete, Range resume and the server's ways of getting it wrong.
import { describe, expect, it } from 'vitest';
import { fetchInto, fetchManifestJson } from './download';

const file = Uint8Array.from({ length: 1000 }, (_, i) => (i * 31) % 256);
const url = new URL('http://h/m/model.onnx');

/** Serves `body` in pieces of `piece` bytes, honouring Range unless told otherwise. */
function server(body: Uint8Array, opts: { piece?: number; status?: number; contentRangeStart?: number; ignoreRange?: boolean } = {}) {
  const ranges: (string | null)[] = [];
  const fetchFn = (async (_input: RequestInfo | URL, init?: RequestInit) => {
    const range = new Headers(init?.headers).get('Range');
    ranges.push(range);
    const start = range && !opts.ignoreRange ? Number(/bytes=(\d+)-/.exec(range)![1]) : 0;
    const rest = body.subarray(start);
    let sent = 0;
    const piece = opts.piece ?? 64;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= rest.byteLength) return c.close();
        c.enqueue(rest.slice(sent, sent + piece));
        sent += piece;
      },
    });
    const status = opts.status ?? (start > 0 ? 206 : 200);
    const headers: Record<string, string> =
      start > 0 ? { 'Content-Range': `bytes ${opts.contentRangeStart ?? start}-${body.byteLength - 1}/${body.byteLength}` } : {};
    return new Response(status === 204 ? null : stream, { status, headers });
  }) as typeof fetch;
  return { fetch: fetchFn, ranges };
}

describe('fetchInto', () => {
  it('fills the buffer and hands over each whole chunk once, in order, as a view of exactly that chunk', async () => {
    const target = new Uint8Array(file.length);
    const chunks: [number, number, number][] = [];
    const progress: number[] = [];
    await fetchInto(url, target, 0, {
      fetch: server(file, { piece: 70 }).fetch,
      chunkBytes: 256,
      onChunk: async (index, chunk) => void chunks.push([index, chunk.byteOffset, chunk.byteLength]),
      onProgress: (p) => progress.push(p.loaded),
    });
    expect(target).toEqual(file);
    expect(chunks).toEqual([
      [0, 0, 256],
      [1, 256, 256],
      [2, 512, 256],
    ]); // the last 232 bytes are the caller's to store with the verified file
    expect(progress.at(-1)).toBe(1000);
  });

  it('resumes with a Range request from the first byte it lacks', async () => {
    const target = new Uint8Array(file.length);
    target.set(file.subarray(0, 512));
    const s = server(file);
    const chunks: number[] = [];
    await fetchInto(url, target, 512, { fetch: s.fetch, chunkBytes: 256, onChunk: async (i) => void chunks.push(i) });
    expect(s.ranges).toEqual(['bytes=512-']);
    expect(target).toEqual(file);
    expect(chunks).toEqual([2]);
  });

  it('starts over when the server ignores the Range request', async () => {
    const target = new Uint8Array(file.length);
    let restarts = 0;
    const chunks: number[] = [];
    await fetchInto(url, target, 256, {
      fetch: server(file, { ignoreRange: true }).fetch,
      chunkBytes: 256,
      onChunk: async (i) => void chunks.push(i),
      onRestart: async () => void restarts++,
    });
    expect(restarts).toBe(1);
    expect(chunks).toEqual([0, 1, 2]);
    expect(target).toEqual(file);
  });

  it('refuses a resume at the wrong byte, more bytes than declared, and HTTP errors', async () => {
    let restarts = 0;
    await expect(
      fetchInto(url, new Uint8Array(1000), 256, {
        fetch: server(file, { contentRangeStart: 100 }).fetch,
        chunkBytes: 256,
        onRestart: async () => void restarts++,
      }),
    ).rejects.toMatchObject({ code: 'download', message: expect.stringContaining('resumed at byte 100') });
    expect(restarts).toBe(1);
    await expect(fetchInto(url, new Uint8Array(999), 0, { fetch: server(file).fetch, chunkBytes: 256 })).rejects.toMatchObject({ code: 'mismatch' });
    await expect(fetchInto(url, new Uint8Array(1001), 0, { fetch: server(file).fetch, chunkBytes: 256 })).rejects.toMatchObject({
      code: 'download',
      message: expect.stringContaining('1000 of 1001'),
    });
    await expect(fetchInto(url, new Uint8Array(1000), 0, { fetch: server(file, { status: 404 }).fetch, chunkBytes: 256 })).rejects.toMatchObject({
      code: 'mismatch',
    });
    await expect(fetchInto(url, new Uint8Array(1000), 0, { fetch: server(file, { status: 503 }).fetch, chunkBytes: 256 })).rejects.toMatchObject({
      code: 'download',
    });
  });

  it('reports a dropped connection as a download error, after the chunks it completed', async () => {
    let sent = 0;
    const dropping = (async () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(c) {
            if (sent >= 600) return c.error(new TypeError('network connection lost'));
            c.enqueue(file.slice(sent, sent + 100));
            sent += 100;
          },
        }),
      )) as typeof fetch;
    const chunks: number[] = [];
    await expect(
      fetchInto(url, new Uint8Array(1000), 0, { fetch: dropping, chunkBytes: 256, onChunk: async (i) => void chunks.push(i) }),
    ).rejects.toMatchObject({
      code: 'download',
      message: expect.stringContaining('after 600 of 1000'),
    });
    expect(chunks).toEqual([0, 1]);
  });

  it('passes a storage failure of a chunk through unchanged', async () => {
    const quota = Object.assign(new Error('full'), { name: 'QuotaExceededError' });
    await expect(
      fetchInto(url, new Uint8Array(1000), 0, {
        fetch: server(file).fetch,
        chunkBytes: 256,
        onChunk: async () => {
          throw quota;
        },
      }),
    ).rejects.toBe(quota);
  });
});

describe('fetchManifestJson', () => {
  it('parses the manifest, and names what went wrong', async () => {
    const base = new URL('http://h/m/');
    expect(await fetchManifestJson(base, async () => new Response('{"a":1}'))).toEqual({ a: 1 });
    await expect(fetchManifestJson(base, async () => new Response('{', { status: 200 }))).rejects.toMatchObject({ code: 'invalid-manifest' });
    await expect(fetchManifestJson(base, async () => new Response('', { status: 404 }))).rejects.toMatchObject({ code: 'download' });
  });
});
