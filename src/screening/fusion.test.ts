import { describe, expect, it } from 'vitest';
import { FusionError, fuse } from './fusion';
import { classifyCrop, meanEmbedding } from './pipeline';

const close = (a: number[], b: number[], eps = 1e-9) => a.every((v, i) => Math.abs(v - b[i]!) < eps);

describe('fusing several photos of one child', () => {
  const a = [0.7, 0.1, 0.1, 0.1];
  const b = [0.1, 0.7, 0.1, 0.1];
  const c = [0.6, 0.2, 0.1, 0.1];

  it('mean of probabilities; one photo is its own result', () => {
    expect(close(fuse([{ probabilities: a }, { probabilities: b }], 'mean-probability'), [0.4, 0.4, 0.1, 0.1])).toBe(true);
    expect(fuse([{ probabilities: a }], 'mean-log-probability')).toEqual(a);
  });

  it('mean of log-probabilities is the renormalised geometric mean, and differs from the arithmetic one', () => {
    const g = [Math.sqrt(0.7 * 0.6), Math.sqrt(0.1 * 0.2), 0.1, 0.1];
    const sum = g.reduce((x, y) => x + y, 0);
    const fused = fuse([{ probabilities: a }, { probabilities: c }], 'mean-log-probability');
    expect(
      close(
        fused,
        g.map((v) => v / sum),
      ),
    ).toBe(true);
    expect(fused.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 12);
    // A photo that rounds a class to 0 does not make it impossible forever (log floor), nor NaN.
    expect(fuse([{ probabilities: [1, 0, 0, 0] }, { probabilities: b }], 'mean-log-probability').every(Number.isFinite)).toBe(true);
  });

  it('mean of embeddings goes through the CosFace head: softmax(s·cos/T) of the renormalised mean', () => {
    // Two classes in 2-D: class weights along x and y; photos at 0° and 60°: the mean points at 30°.
    const head = { classWeights: new Float32Array([1, 0, 0, 1]), dimension: 2, scale: 10, temperature: 2 };
    const e1 = [1, 0];
    const e2 = [Math.cos(Math.PI / 3), Math.sin(Math.PI / 3)];
    const fused = fuse(
      [
        { probabilities: [0.5, 0.5], embedding: e1 },
        { probabilities: [0.5, 0.5], embedding: e2 },
      ],
      'mean-embedding',
      head,
    );
    const l = [(10 * Math.cos(Math.PI / 6)) / 2, (10 * Math.sin(Math.PI / 6)) / 2];
    const z = Math.exp(l[0]!) + Math.exp(l[1]!);
    expect(close(fused, [Math.exp(l[0]!) / z, Math.exp(l[1]!) / z], 1e-6)).toBe(true);
    expect(() => fuse([{ probabilities: [0.5, 0.5] }], 'mean-embedding', head)).toThrow(FusionError);
    expect(() => fuse([{ probabilities: [0.5, 0.5], embedding: e1 }], 'mean-embedding')).toThrow(FusionError);
  });

  it('refuses photos with different class counts, or none', () => {
    expect(() => fuse([], 'mean-probability')).toThrow(FusionError);
    expect(() => fuse([{ probabilities: a }, { probabilities: [0.5, 0.5] }], 'mean-probability')).toThrow(FusionError);
  });
});

describe('a photo’s embedding from its TTA passes', () => {
  it('is the renormalised mean of the L2-normalised pass embeddings', () => {
    // Two passes of dimension 2, at 0° (length 3) and 90° (length 0.5): the mean direction is 45°.
    const e = meanEmbedding(new Float32Array([3, 0, 0, 0.5]), 2);
    expect(e[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(e[1]).toBeCloseTo(Math.SQRT1_2, 6);
  });

  it('classifyCrop passes the model’s embeddings on as one embedding per photo', async () => {
    const crop = { width: 112, height: 112, data: new Uint8ClampedArray(112 * 112 * 4).fill(128) };
    const classifier = async (_input: Float32Array, batch: number) => ({
      probabilities: new Float32Array(Array.from({ length: batch }, () => [0.25, 0.25, 0.25, 0.25]).flat()),
      embeddings: new Float32Array(Array.from({ length: batch }, (_, b) => [1, b]).flat()),
      inferenceMs: 1,
    });
    const out = await classifyCrop(crop, classifier, { normalization: { mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] }, tta: 'flip' });
    const expected = [1 + Math.SQRT1_2, Math.SQRT1_2];
    const n = Math.hypot(...expected);
    expect(out.embedding![0]).toBeCloseTo(expected[0]! / n, 6);
    expect(out.embedding![1]).toBeCloseTo(expected[1]! / n, 6);
    const none = await classifyCrop(crop, async (i, b) => ({ probabilities: (await classifier(i, b)).probabilities, inferenceMs: 1 }), {
      normalization: { mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] },
      tta: 'none',
    });
    expect(none.embedding).toBeUndefined();
  });
});
