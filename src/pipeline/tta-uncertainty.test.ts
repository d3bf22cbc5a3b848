import { describe, expect, it } from 'vitest';
import { TTA_PASSES, greyscale, meanProbabilities, mirrorNchw, splitBatch, ttaBatch, withMirror } from './tta';
import { assessConfidence, DEFAULT_CONFIDENCE_LIMITS, topClassIndex } from './uncertainty';

const crop = () => Float32Array.from({ length: 3 * 112 * 112 }, (_, i) => Math.sin(i * 0.37));

describe('flip TTA', () => {
  it('mirrors every row of every channel', () => {
    const c = crop();
    const m = mirrorNchw(c);
    // pixel (x, y) of channel ch lands at (111 − x, y)
    for (const [ch, x, y] of [
      [0, 0, 0],
      [1, 5, 60],
      [2, 111, 111],
      [2, 40, 3],
    ] as const) {
      expect(m[ch * 12544 + y * 112 + (111 - x)]).toBe(c[ch * 12544 + y * 112 + x]);
    }
    expect(mirrorNchw(m)).toEqual(c);
  });
  it('builds a batch of the crop then its mirror', () => {
    const c = crop();
    const b = withMirror(c);
    expect(b.length).toBe(2 * c.length);
    expect(b.subarray(0, c.length)).toEqual(c);
    expect(b.subarray(c.length)).toEqual(mirrorNchw(c));
    expect(() => withMirror(new Float32Array(10))).toThrow(RangeError);
  });
  it('splits batch outputs and averages them', () => {
    const passes = splitBatch(Float32Array.of(0.1, 0.2, 0.3, 0.4, 0.3, 0.4, 0.1, 0.2), 2);
    expect(passes.map((p) => p.map((v) => +v.toFixed(6)))).toEqual([
      [0.1, 0.2, 0.3, 0.4],
      [0.3, 0.4, 0.1, 0.2],
    ]);
    const mean = meanProbabilities(passes);
    [0.2, 0.3, 0.2, 0.3].forEach((v, i) => expect(mean[i]).toBeCloseTo(v, 6));
    expect(() => splitBatch([1, 2, 3], 2)).toThrow(RangeError);
  });
});

describe('uncertainty', () => {
  it('names the top class when it is likely and clear of the runner-up', () => {
    const c = assessConfidence([0.05, 0.8, 0.1, 0.05]);
    expect(c).toMatchObject({ conclusive: true, top: 1, runnerUp: 2 });
    expect(c.margin).toBeCloseTo(0.7);
  });
  it('is inconclusive when the top probability is low', () => {
    expect(assessConfidence([0.3, 0.28, 0.22, 0.2])).toMatchObject({ conclusive: false, reason: 'low-probability', top: 0 });
  });
  it('is inconclusive when the top two are within the margin', () => {
    expect(assessConfidence([0.52, 0.44, 0.02, 0.02])).toMatchObject({ conclusive: false, reason: 'close-call', top: 0, runnerUp: 1 });
  });
  it('follows the clinician’s limits', () => {
    const p = [0.45, 0.25, 0.2, 0.1];
    expect(assessConfidence(p).conclusive).toBe(false);
    expect(assessConfidence(p, { minTopProbability: 0.4, minMargin: 0.1 }).conclusive).toBe(true);
    expect(DEFAULT_CONFIDENCE_LIMITS.minTopProbability).toBeGreaterThan(0.25);
  });
});

describe('top class', () => {
  it('is the most probable class, the first of equals', () => {
    expect(topClassIndex([0.1, 0.6, 0.3])).toBe(1);
    expect(topClassIndex([0.4, 0.2, 0.4])).toBe(0);
    expect(topClassIndex([0.25])).toBe(0);
  });
});

describe('limits from settings', () => {
  it('keeps stored limits within [0, 0.99] and falls back on non-numbers', async () => {
    const { confidenceLimits } = await import('./uncertainty');
    expect(confidenceLimits(0.6, 0.2)).toEqual({ minTopProbability: 0.6, minMargin: 0.2 });
    expect(confidenceLimits(3, -1)).toEqual({ minTopProbability: 0.99, minMargin: 0 });
    expect(confidenceLimits(NaN, 0.1).minTopProbability).toBe(DEFAULT_CONFIDENCE_LIMITS.minTopProbability);
  });
});

describe('grey TTA', () => {
  it('greyscale is BT.601 luma in all three channels, alpha kept', () => {
    const image = { width: 2, height: 1, data: new Uint8ClampedArray([255, 0, 0, 255, 10, 200, 30, 128]) };
    const g = greyscale(image);
    expect(Array.from(g.data)).toEqual([76, 76, 76, 255, 124, 124, 124, 128]);
    expect(Array.from(image.data)).toEqual([255, 0, 0, 255, 10, 200, 30, 128]);
  });

  it('the batch of each mode: [crop], [crop, mirror], [crop, mirror, grey, grey mirror]', () => {
    const plane = 112 * 112;
    const colour = Float32Array.from({ length: 3 * plane }, (_, i) => i % 113);
    const grey = Float32Array.from({ length: 3 * plane }, (_, i) => -(i % 7));
    expect(ttaBatch('none', colour)).toBe(colour);
    expect(ttaBatch('flip', colour)).toEqual(withMirror(colour));
    const four = ttaBatch('flip-grey', colour, grey);
    expect(four.length).toBe(4 * 3 * plane);
    expect(four.subarray(0, 6 * plane)).toEqual(withMirror(colour));
    expect(four.subarray(6 * plane)).toEqual(withMirror(grey));
    expect(() => ttaBatch('flip-grey', colour)).toThrow(RangeError);
    expect(TTA_PASSES).toEqual({ none: 1, flip: 2, 'flip-grey': 4 });
  });
});
