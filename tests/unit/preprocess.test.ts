import { describe, expect, it } from 'vitest';
import type { RgbaImage } from '../../src/pipeline/image';
import {
  ARCFACE_NORMALIZATION,
  DETECTION_MAX_SIDE,
  detectionScale,
  flipHorizontal,
  mapBoxToOriginal,
  mapDetectionToOriginal,
  mapPointToOriginal,
  normalizedToPixel,
  toNchwFloat32,
} from '../../src/pipeline/preprocess';

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
    const flipped = flipHorizontal(img3x2);
    const r0 = toNchwFloat32(img3x2, ARCFACE_NORMALIZATION, batch, 0);
    const r1 = toNchwFloat32(flipped, ARCFACE_NORMALIZATION, batch, per);
    expect(r0).toBe(batch);
    expect(r1).toBe(batch);
    expect(Array.from(batch.subarray(0, per))).toEqual(Array.from(toNchwFloat32(img3x2, ARCFACE_NORMALIZATION)));
    expect(Array.from(batch.subarray(per))).toEqual(Array.from(toNchwFloat32(flipped, ARCFACE_NORMALIZATION)));
    // Batch item 1, R plane, (0,0) is the flipped image's (0,0) = original (2,0) R = 127.
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
    expect(() => toNchwFloat32({ width: 2, height: 2, data: new Uint8ClampedArray(3) }, ARCFACE_NORMALIZATION)).toThrow(
      RangeError,
    );
  });
});

describe('flipHorizontal', () => {
  it('mirrors each row', () => {
    const f = flipHorizontal(img3x2);
    expect(f.width).toBe(3);
    expect(f.height).toBe(2);
    expect(Array.from(f.data)).toEqual([
      ...[127, 128, 0, 0],
      ...[255, 0, 51, 10],
      ...[0, 255, 128, 255],
      ...[70, 80, 90, 255],
      ...[40, 50, 60, 255],
      ...[10, 20, 30, 255],
    ]);
  });

  it('is an involution and does not modify its input', () => {
    const w = 7;
    const h = 5;
    const data = Uint8ClampedArray.from({ length: w * h * 4 }, (_, i) => (i * 37) % 256);
    const img: RgbaImage = { width: w, height: h, data };
    const before = Array.from(data);
    expect(Array.from(flipHorizontal(flipHorizontal(img)).data)).toEqual(before);
    expect(Array.from(data)).toEqual(before);
    expect(Array.from(flipHorizontal(img).data)).not.toEqual(before);
  });
});

describe('detection downscale', () => {
  it('shrinks a 12 MP photo to the max side and keeps the aspect ratio', () => {
    expect(DETECTION_MAX_SIDE).toBe(1024);
    expect(detectionScale(4000, 3000)).toEqual({ scale: 0.256, width: 1024, height: 768 });
    expect(detectionScale(3000, 4000)).toEqual({ scale: 0.256, width: 768, height: 1024 });
    expect(detectionScale(4032, 3024, 1920)).toEqual({ scale: 1920 / 4032, width: 1920, height: 1440 });
  });

  it('never upscales', () => {
    expect(detectionScale(640, 480)).toEqual({ scale: 1, width: 640, height: 480 });
    expect(detectionScale(1024, 100)).toEqual({ scale: 1, width: 1024, height: 100 });
  });

  it('keeps at least one pixel and rejects invalid sizes', () => {
    expect(detectionScale(100000, 10)).toEqual({ scale: 1024 / 100000, width: 1024, height: 1 });
    expect(() => detectionScale(0, 10)).toThrow(RangeError);
    expect(() => detectionScale(10, NaN)).toThrow(RangeError);
    expect(() => detectionScale(10, 10, 0)).toThrow(RangeError);
  });

  it('maps pixel-centre keypoints and edge boxes back to the original photo', () => {
    const original = { width: 4000, height: 3000 };
    const scaled = detectionScale(original.width, original.height);
    // Image edges map to edges, the centre to the centre.
    expect(mapPointToOriginal({ x: -0.5, y: -0.5 }, scaled, original)).toEqual({ x: -0.5, y: -0.5 });
    expect(mapPointToOriginal({ x: 1023.5, y: 767.5 }, scaled, original)).toEqual({ x: 3999.5, y: 2999.5 });
    expect(mapPointToOriginal({ x: 511.5, y: 383.5 }, scaled, original)).toEqual({ x: 1999.5, y: 1499.5 });
    // Pixel 0 of the 1024-wide image covers original pixels 0…3.90625, centre 1.453125.
    expect(mapPointToOriginal({ x: 0, y: 0 }, scaled, original).x).toBeCloseTo(1.453125, 12);
    expect(mapBoxToOriginal({ x: 256, y: 192, width: 128, height: 96 }, scaled, original)).toEqual({
      x: 1000,
      y: 750,
      width: 500,
      height: 375,
    });
  });

  it('maps a whole detection and keeps its other fields', () => {
    const original = { width: 3000, height: 4000 };
    const scaled = detectionScale(original.width, original.height);
    const detection = {
      score: 0.92,
      box: { x: 300, y: 400, width: 200, height: 200 },
      keypoints: [
        { x: 350, y: 480 },
        { x: 450, y: 480 },
      ],
    };
    const mapped = mapDetectionToOriginal(detection, scaled, original);
    expect(mapped.score).toBe(0.92);
    const k = original.width / scaled.width;
    expect(mapped.box.x).toBeCloseTo(300 * k, 9);
    expect(mapped.box.width).toBeCloseTo(200 * k, 9);
    expect(mapped.keypoints[1]!.x).toBeCloseTo(450.5 * k - 0.5, 9);
    expect(mapped.keypoints[1]!.y).toBeCloseTo(480.5 * (original.height / scaled.height) - 0.5, 9);
    expect(detection.keypoints[1]).toEqual({ x: 450, y: 480 });
  });

  it('converts MediaPipe normalised keypoints consistently at either resolution', () => {
    const original = { width: 4000, height: 3000 };
    const scaled = detectionScale(original.width, original.height);
    const n = { x: 0.41, y: 0.377 };
    const direct = normalizedToPixel(n, original);
    expect(direct.x).toBeCloseTo(0.41 * 4000 - 0.5, 9);
    const viaScaled = mapPointToOriginal(normalizedToPixel(n, scaled), scaled, original);
    expect(viaScaled.x).toBeCloseTo(direct.x, 9);
    expect(viaScaled.y).toBeCloseTo(direct.y, 9);
    expect(normalizedToPixel({ x: 0, y: 1 }, original)).toEqual({ x: -0.5, y: 2999.5 });
  });
});
