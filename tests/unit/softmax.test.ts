import { describe, expect, it } from 'vitest';
import { argmax, softmax } from '../../src/pipeline/softmax';

const sum = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0);

describe('softmax', () => {
  it('sums to 1 and keeps the order of the logits', () => {
    const p = softmax([2.5, -1, 0.3, 7, 7.1]);
    expect(p).toBeInstanceOf(Float64Array);
    expect(sum(p)).toBeCloseTo(1, 15);
    expect(argmax(p)).toBe(4);
    expect(p[3]!).toBeLessThan(p[4]!);
    expect(p.every((v) => v > 0 && v < 1)).toBe(true);
  });

  it('matches a hand-computed value', () => {
    // softmax([1, 2, 3]) = e^k / (e + e² + e³)
    const p = softmax([1, 2, 3]);
    const z = Math.E + Math.E ** 2 + Math.E ** 3;
    expect(p[0]).toBeCloseTo(Math.E / z, 15);
    expect(p[2]).toBeCloseTo(Math.E ** 3 / z, 15);
    expect(p[2]).toBeCloseTo(0.6652409557748219, 15);
    expect(p[1]).toBeCloseTo(0.24472847105479764, 15);
    // Two classes: softmax is the logistic of the difference.
    const q = softmax([0, Math.log(3)]);
    expect(q[0]).toBeCloseTo(0.25, 15);
    expect(q[1]).toBeCloseTo(0.75, 15);
  });

  it('is stable for large logits', () => {
    const p = softmax([1000, 1001]);
    expect(p[0]).toBeCloseTo(1 / (1 + Math.E), 15);
    expect(p[1]).toBeCloseTo(Math.E / (1 + Math.E), 15);
    // CosFace scale: s · cos θ with s = 64 reaches ±64.
    const q = softmax([-64, 64, 63.5]);
    expect(Number.isFinite(q[0]!)).toBe(true);
    expect(sum(q)).toBeCloseTo(1, 15);
    const r = softmax([-1e308, 1e308]);
    expect(Array.from(r)).toEqual([0, 1]);
  });

  it('is invariant to adding a constant', () => {
    const a = softmax([0.1, 0.2, -0.3]);
    const b = softmax([100.1, 100.2, 99.7]);
    a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 12));
  });

  it('applies the temperature as softmax(z / T)', () => {
    const z = [1, 2, 3];
    const hot = softmax(z, 2);
    const base = softmax(z.map((v) => v / 2));
    hot.forEach((v, i) => expect(v).toBeCloseTo(base[i]!, 15));
    // Higher temperature flattens, lower sharpens.
    expect(hot[2]!).toBeLessThan(softmax(z)[2]!);
    expect(softmax(z, 0.1)[2]!).toBeGreaterThan(0.9999);
    expect(softmax(z, 1e6)[0]).toBeCloseTo(1 / 3, 5);
  });

  it('handles edge cases and rejects invalid input', () => {
    expect(softmax([]).length).toBe(0);
    expect(Array.from(softmax([5]))).toEqual([1]);
    expect(Array.from(softmax(new Float32Array([2, 2])))).toEqual([0.5, 0.5]);
    expect(() => softmax([1, NaN])).toThrow(RangeError);
    expect(() => softmax([1, Infinity])).toThrow(RangeError);
    expect(() => softmax([1, 2], 0)).toThrow(RangeError);
    expect(() => softmax([1, 2], -1)).toThrow(RangeError);
    expect(() => softmax([1, 2], NaN)).toThrow(RangeError);
  });
});

describe('argmax', () => {
  it('returns the index of the largest value, the first on ties', () => {
    expect(argmax([0.1, 0.7, 0.2])).toBe(1);
    expect(argmax([3, 9, 9, 1])).toBe(1);
    expect(argmax(new Float32Array([-5, -2, -3]))).toBe(1);
    expect(argmax([-Infinity, -Infinity])).toBe(0);
  });

  it('ignores NaN and returns −1 when there is nothing to pick', () => {
    expect(argmax([NaN, 2, NaN, 3])).toBe(3);
    expect(argmax([])).toBe(-1);
    expect(argmax([NaN])).toBe(-1);
  });
});
