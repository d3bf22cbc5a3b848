import { describe, expect, it } from 'vitest';
import type { RgbaImage } from './image';
import { ARCFACE_NORMALIZATION, toNchwFloat32 } from './preprocess';

function image(width: number, height: number, pixels: number[][]): RgbaImage {
  return { width, height, data: new Uint8ClampedArray(pixels.flat()) };
}

// 3×2 image; pixel (x, y) listed row by row.
const img3x2 = image(3, 2, [
  [0, 255, 127.5, 255],
  [255, 0, 51, 10],
  [127, 128, 0, 0],
  [10, 20, 30, 255],
  [40, 50, 60, 255],
  [70, 80, 90, 255],
]);

describe('toNchwFloat32', () => {
  it('writes (x − 127.5) / 127.5 per channel into NCHW planes', () => {
    const t = toNchwFloat32(img3x2, ARCFACE_NORMALIZATION);
    expect(t).toBeInstanceOf(Float32Array);
    expect(t.length).toBe(3 * 3 * 2);
    const f = (v: number) => Math.fround((v - 127.5) / 127.5);
    // R plane (c = 0), index y·W + x.
    expect(t[0]).toBe(-1); // (0,0) R = 0
    expect(t[1]).toBe(1); // (1,0) R = 255
    expect(t[2]).toBe(f(127)); // (2,0) R = 127
    expect(t[3]).toBe(f(10)); // (0,1)
    expect(t[5]).toBe(f(70)); // (2,1)
    // G plane starts at H·W = 6.
    expect(t[6]).toBe(1); // (0,0) G = 255
    expect(t[7]).toBe(-1); // (1,0) G = 0
    expect(t[8]).toBe(f(128));
    expect(t[10]).toBe(f(50)); // (1,1) G
    // B plane starts at 12; 127.5 was stored as the byte 128 (round half to even).
    expect(t[12]).toBe(f(128));
    expect(t[13]).toBe(f(51));
    expect(t[17]).toBe(f(90)); // (2,1) B
    expect(f(127)).toBeCloseTo(-0.00392157, 7);
  });

  it('uses each channel its own mean and std and ignores alpha', () => {
    const t = toNchwFloat32(img3x2, { mean: [10, 20, 30], std: [2, 4, 0.5] });
    expect(Array.from(t.subarray(3, 4))).toEqual([0]); // (10 − 10) / 2
    expect(t[9]).toBe(0); // (20 − 20) / 4
    expect(t[15]).toBe(0); // (30 − 30) / 0.5
    expect(t[1]).toBe((255 - 10) / 2);
    expect(t[14]).toBe((0 - 30) / 0.5);
  });

  it('writes into a preallocated batch at an offset without touching the rest', () => {
    const per = 3 * 3 * 2;
    const batch = new Float32Array(2 * per).fill(42);
    // img3x2 mirrored left ↔ right.
    const flipped = image(3, 2, [
      [127, 128, 0, 0],
      [255, 0, 51, 10],
      [0, 255, 128, 255],
      [70, 80, 90, 255],
      [40, 50, 60, 255],
      [10, 20, 30, 255],
    ]);
    const r0 = toNchwFloat32(img3x2, ARCFACE_NORMALIZATION, batch, 0);
    const r1 = toNchwFloat32(flipped, ARCFACE_NORMALIZATION, batch, per);
    expect(r0).toBe(batch);
    expect(r1).toBe(batch);
    expect(Array.from(batch.subarray(0, per))).toEqual(Array.from(toNchwFloat32(img3x2, ARCFACE_NORMALIZATION)));
    expect(Array.from(batch.subarray(per))).toEqual(Array.from(toNchwFloat32(flipped, ARCFACE_NORMALIZATION)));
    // Batch item 1, R plane, (0,0) is the mirrored image's (0,0) = original (2,0) R = 127.
    expect(batch[per]).toBe(Math.fround((127 - 127.5) / 127.5));

    const partial = new Float32Array(per + 2).fill(42);
    toNchwFloat32(img3x2, ARCFACE_NORMALIZATION, partial, 1);
    expect(partial[0]).toBe(42);
    expect(partial[per + 1]).toBe(42);
    expect(partial[1]).toBe(-1);
  });

  it('rejects a buffer that is too short and invalid normalisations', () => {
    expect(() => toNchwFloat32(img3x2, ARCFACE_NORMALIZATION, new Float32Array(18), 1)).toThrow(RangeError);
    expect(() => toNchwFloat32(img3x2, { mean: [0, 0], std: [1, 1] })).toThrow(RangeError);
    expect(() => toNchwFloat32(img3x2, { mean: [0, 0, 0], std: [1, 0, 1] })).toThrow(RangeError);
    expect(() => toNchwFloat32({ width: 2, height: 2, data: new Uint8ClampedArray(3) }, ARCFACE_NORMALIZATION)).toThrow(RangeError);
  });
});
