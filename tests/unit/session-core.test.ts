// The inference worker's session core, run for real with onnxruntime-node on the generated test-tiny model
// (models/test-tiny: the same operators as the ResNet-100, 1 MB; made by `npm run prepare:assets`).
import { existsSync, readFileSync } from 'node:fs';
import * as ortNode from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { ModelManifest } from '../../src/model/manifest';
import { occlusionGrid } from '../../src/pipeline/occlusion';
import { externalizeWeights } from '../../src/inference/external-weights';
import { InferenceFailure, inputLayout, openModelSession, startModel, type OrtModule, type SessionOptions } from '../../src/inference/session-core';

const dir = new URL('../../models/test-tiny/', import.meta.url);
const present = existsSync(new URL('model.onnx', dir)) && existsSync(new URL('manifest.json', dir));
const ort = ortNode as unknown as OrtModule;
const bytes = () => new Uint8Array(readFileSync(new URL('model.onnx', dir)));
const manifest = (): ModelManifest => JSON.parse(readFileSync(new URL('manifest.json', dir), 'utf8'));

/** Deterministic crops in roughly the normalised range. */
function crops(n: number, itemLength: number, seed = 3): Float32Array {
  const out = new Float32Array(n * itemLength);
  let x = seed;
  for (let i = 0; i < out.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = (x >>> 8) / 2 ** 23 - 1;
  }
  return out;
}

const rowSums = (p: Float32Array, classes: number) =>
  Array.from({ length: p.length / classes }, (_, b) => p.subarray(b * classes, (b + 1) * classes).reduce((a, v) => a + v, 0));

describe('inputLayout', () => {
  it('reads [N, C, H, W] from the manifest', () => {
    expect(inputLayout({ input: { name: 'x', shape: [-1, 3, 112, 112], layout: 'NCHW', colorSpace: 'RGB' } })).toEqual({
      channels: 3,
      height: 112,
      width: 112,
      itemLength: 3 * 112 * 112,
      fixedBatch: null,
    });
    expect(inputLayout({ input: { name: 'x', shape: [2, 3, 96, 96], layout: 'NCHW', colorSpace: 'RGB' } }).fixedBatch).toBe(2);
  });
  it('refuses shapes it cannot feed', () => {
    for (const shape of [
      [-1, 3, -1, 112],
      [-1, 3, 112],
      [0, 3, 112, 112],
    ]) {
      expect(() => inputLayout({ input: { name: 'x', shape, layout: 'NCHW', colorSpace: 'RGB' } })).toThrow(InferenceFailure);
    }
  });
});

describe.skipIf(!present)('session core with onnxruntime-node (test-tiny)', { timeout: 30_000 }, () => {
  it('creates the session, passes the self-test, and classifies a batch into probabilities that sum to 1', async () => {
    const m = manifest();
    const file = { bytes: bytes() as Uint8Array | null };
    const started = await startModel({ ort, ep: 'cpu', file, manifest: m });
    try {
      expect(file.bytes).toBeNull(); // the core lets go of the model file once ORT has it
      expect(started.ep).toBe('cpu');
      expect(started.selfTestDeviation).toBeLessThanOrEqual(m.selfTest.tolerance);
      const { itemLength } = started.model.layout;
      const { probabilities } = await started.model.classify(crops(3, itemLength), 3);
      expect(probabilities.length).toBe(3 * m.classes.length);
      for (const s of rowSums(probabilities, m.classes.length)) expect(s).toBeCloseTo(1, 5);
      expect(probabilities.every((p) => p >= 0 && p <= 1)).toBe(true);
      // The same item gives the same answer alone and in a batch.
      const alone = await started.model.classify(crops(3, itemLength).slice(itemLength, 2 * itemLength), 1);
      for (let k = 0; k < m.classes.length; k++) expect(alone.probabilities[k]).toBeCloseTo(probabilities[m.classes.length + k]!, 5);
      await expect(started.model.classify(new Float32Array(10), 1)).rejects.toMatchObject({ code: 'inference' });
    } finally {
      await started.model.release();
    }
    await expect(started.model.classify(crops(1, started.model.layout.itemLength), 1)).rejects.toMatchObject({ code: 'not-ready' });
  });

  it('refuses a manifest whose input or output the graph does not have', async () => {
    const m = manifest();
    await expect(openModelSession(ort, bytes(), { ...m, input: { ...m.input, name: 'pixels' } })).rejects.toMatchObject({
      code: 'model-invalid',
      message: expect.stringContaining('no input named "pixels"'),
    });
    await expect(openModelSession(ort, bytes(), { ...m, output: { ...m.output, shape: [-1, 5] } })).rejects.toMatchObject({ code: 'model-invalid' });
    await expect(
      openModelSession(ort, bytes(), {
        ...m,
        inference: { tta: 'flip', fusion: 'mean-embedding', embedding: { output: 'embedding', dimension: 512, classWeightsBase64: '' } },
      }),
    ).rejects.toMatchObject({
      code: 'model-invalid',
      message: expect.stringContaining('no embedding output'),
    });
  });

  it('refuses a model whose self-test does not match, and one that is not a model', async () => {
    const m = manifest();
    const wrong = { ...m, selfTest: { ...m.selfTest, expected: [0.97, 0.01, 0.01, 0.01] } };
    await expect(startModel({ ort, ep: 'cpu', file: { bytes: bytes() }, manifest: wrong })).rejects.toMatchObject({
      code: 'model-self-test',
      message: expect.stringContaining('(cpu)'),
    });
    await expect(startModel({ ort, ep: 'cpu', file: { bytes: new Uint8Array([1, 2, 3]) }, manifest: m })).rejects.toMatchObject({ code: 'session' });
  });

  it('hands ORT the weights as external data in the file itself, with the same probabilities as the whole file', async () => {
    const m = manifest();
    const file = bytes();
    const created: { model: Uint8Array; externalData?: unknown }[] = [];
    const spying: OrtModule = {
      Tensor: ort.Tensor,
      InferenceSession: {
        create: (model: Uint8Array, options: SessionOptions) => {
          created.push({ model, externalData: options.externalData });
          return ort.InferenceSession.create(model, options);
        },
      } as unknown as OrtModule['InferenceSession'],
    };
    const viaCore = await openModelSession(spying, file, m);
    const whole = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all' }); // the file as it is
    const input = crops(2, viaCore.layout.itemLength);
    try {
      expect(created).toHaveLength(1);
      // The graph given to ORT is small; the weights are read from the verified buffer itself, not from a copy.
      expect(created[0]!.model.length).toBeLessThan(file.length / 20);
      expect(created[0]!.externalData).toEqual([{ path: 'model.onnx', data: file }]);
      expect((created[0]!.externalData as { data: Uint8Array }[])[0]!.data).toBe(file);
      const a = (await viaCore.classify(input, 2)).probabilities;
      const out = await whole.run({
        [m.input.name]: new ort.Tensor('float32', input, [2, viaCore.layout.channels, viaCore.layout.height, viaCore.layout.width]),
      });
      const b = out[m.output.name]!.data as Float32Array;
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-6);
    } finally {
      await viaCore.release();
      await whole.release();
    }
  });

  it('on onnxruntime-web, widens the float16 weights to float32 as ORT reads them, with the probabilities of the file as it is', async () => {
    // The path the worker takes on WASM, run by onnxruntime-web itself (in Node, one thread): it reads the virtual
    // float32 file only through byteLength and subarray. Native onnxruntime-node, given the same graph with that file
    // made whole, checks the graph rewrite; and the Casts are exact, so both match the file as it is.
    const ortWeb = (await import('onnxruntime-web/wasm')) as unknown as OrtModule & typeof import('onnxruntime-web');
    ortWeb.env.wasm.numThreads = 1;
    const m = manifest();
    const file = bytes();
    const files: { path: string; data: Uint8Array }[][] = [];
    const spying: OrtModule = {
      Tensor: ortWeb.Tensor,
      InferenceSession: {
        create: (model: Uint8Array, options: SessionOptions) => {
          files.push(options.externalData as { path: string; data: Uint8Array }[]);
          return ortWeb.InferenceSession.create(model, options);
        },
      } as unknown as OrtModule['InferenceSession'],
    };
    const split = externalizeWeights(file, { widenFloat16: true })!;
    // As the worker does: each weight from a copy of its own, freed once read (the file itself freed first).
    const started = await startModel({
      ort: spying,
      ep: 'wasm',
      file: { bytes: file.slice() },
      manifest: m,
      widenFloat16On: ['wasm'],
      releaseWeightsOn: ['wasm'],
    });
    const native = await ort.InferenceSession.create(split.graph, {
      externalData: split.files.map((f) => ({ path: f.path, data: f.data.subarray(0, f.data.byteLength).slice() })),
    });
    const whole = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all' });
    try {
      expect(split.widened).toBeGreaterThan(0);
      expect(files[0]!.map((f) => [f.path, f.data.byteLength])).toEqual([
        ['model.onnx', file.length],
        ['weights.float32', split.widenedBytes],
      ]);
      expect(files[0]![0]!.data).not.toBe(file); // served from the weights' own copies, not from the file
      expect(started.selfTestDeviation).toBeLessThanOrEqual(m.selfTest.tolerance);
      const { channels, height, width, itemLength } = started.model.layout;
      const input = crops(2, itemLength);
      const feeds = { [m.input.name]: new ort.Tensor('float32', input, [2, channels, height, width]) };
      const expected = (await whole.run(feeds))[m.output.name]!.data as Float32Array;
      const fromNative = (await native.run(feeds))[m.output.name]!.data as Float32Array;
      const fromWeb = (await started.model.classify(input, 2)).probabilities;
      for (let i = 0; i < expected.length; i++) {
        expect(Math.abs(fromNative[i]! - expected[i]!)).toBeLessThan(1e-6);
        expect(Math.abs(fromWeb[i]! - expected[i]!)).toBeLessThan(1e-5);
      }
    } finally {
      await started.model.release();
      await native.release();
      await whole.release();
    }
  });

  it('falls back to another provider when the first cannot create the session', async () => {
    const m = manifest();
    const started = await startModel({ ort, ep: 'no-such-ep', file: { bytes: bytes() }, manifest: m, fallback: async () => ({ ort, ep: 'cpu' }) });
    expect(started.ep).toBe('cpu');
    expect(started.fallbackReason).toBeTruthy();
    await started.model.release();
  });

  it('explains a crop by occlusion in batches: cells × cells drops, the same for every batch size, cancellable', async () => {
    const m = manifest();
    const { model } = await startModel({ ort, ep: 'cpu', file: { bytes: bytes() }, manifest: m });
    try {
      const crop = crops(1, model.layout.itemLength, 11);
      const grid = occlusionGrid(28, 14, model.layout.height);
      const progress: number[] = [];
      const a = await model.explain(crop, 2, { patch: 28, stride: 14, batchSize: 8 }, { onProgress: (done) => progress.push(done) });
      expect(a.cells).toBe(grid.cells);
      expect(a.drops.length).toBe(grid.cells * grid.cells);
      expect(progress.at(-1)).toBe(grid.cells * grid.cells);
      const whole = await model.classify(crop, 1);
      expect(a.baseProbability).toBeCloseTo(whole.probabilities[2]!, 5);
      const b = await model.explain(crop, 2, { patch: 28, stride: 14, batchSize: 5 });
      for (let i = 0; i < a.drops.length; i++) expect(b.drops[i]).toBeCloseTo(a.drops[i]!, 5);

      const controller = new AbortController();
      const cancelled = model.explain(crop, 2, { patch: 28, stride: 14, batchSize: 4 }, { signal: controller.signal, onProgress: () => controller.abort() });
      await expect(cancelled).rejects.toMatchObject({ code: 'cancelled' });
      await expect(model.explain(crop, 9, { patch: 28, stride: 14, batchSize: 4 })).rejects.toMatchObject({ code: 'inference' });
    } finally {
      await model.release();
    }
  });

  it('runs a model with a fixed batch dimension in runs of that size, padding the last', async () => {
    // The graph's batch is symbolic: freeDimensionOverrides pins it to 2, and its metadata says so, as a fixed-batch
    // export's would. Every run is recorded to check its batch.
    const runs: number[] = [];
    const fixedOrt = {
      Tensor: ort.Tensor,
      InferenceSession: {
        create: async (b: Uint8Array, o: object) => {
          const s = await ort.InferenceSession.create(b, o);
          return new Proxy(s, {
            get(target, key) {
              if (key === 'inputMetadata') return target.inputMetadata.map((md) => ({ ...md, shape: [2, 3, 112, 112] }));
              if (key === 'run')
                return (feeds: Record<string, { dims: readonly number[] }>, fetches: string[]) => (
                  runs.push(feeds.input!.dims[0]!),
                  target.run(feeds as never, fetches)
                );
              const v = Reflect.get(target, key) as unknown;
              return typeof v === 'function' ? v.bind(target) : v;
            },
          });
        },
      },
    } as unknown as OrtModule;
    const m = { ...manifest(), input: { ...manifest().input, shape: [2, 3, 112, 112] } };
    const { model } = await startModel({
      ort: fixedOrt,
      ep: 'cpu',
      file: { bytes: bytes() },
      manifest: m,
      sessionOptions: { freeDimensionOverrides: { batch: 2 } },
    });
    try {
      expect(model.layout.fixedBatch).toBe(2);
      const input = crops(3, model.layout.itemLength);
      const { probabilities } = await model.classify(input, 3);
      expect(probabilities.length).toBe(3 * m.classes.length);
      for (const s of rowSums(probabilities, m.classes.length)) expect(s).toBeCloseTo(1, 5);
      const drops = await model.explain(input.subarray(0, model.layout.itemLength), 0, { patch: 56, stride: 28, batchSize: 7 });
      expect(drops.drops.length).toBe(9);
      expect(runs.length).toBeGreaterThan(5);
      expect(runs.every((n) => n === 2)).toBe(true);
    } finally {
      await model.release();
    }
  });
});
