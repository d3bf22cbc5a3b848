import { describe, expect, it } from 'vitest';
import {
  ALIGNED_CROP_SIZE,
  ARCFACE_TEMPLATE_112,
  ARCFACE_TEMPLATE_112_BLAZEFACE,
  AlignmentError,
  alignFace,
  alignWithPlan,
  planAlignment,
  applySimilarity,
  boxDownsample,
  estimateSimilarity,
  invertSimilarity,
  prefilterFactor,
  warpSimilarity,
  type AlignmentErrorCode,
  type Matrix2x3,
} from './align';
import type { Point, RgbaImage } from './image';

// ---------------------------------------------------------------- helpers

function makeImage(width: number, height: number, pixel: (x: number, y: number) => readonly [number, number, number, number]): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = pixel(x, y);
      data.set(p, (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

function px(img: RgbaImage, x: number, y: number): number[] {
  const o = (y * img.width + x) * 4;
  return Array.from(img.data.subarray(o, o + 4));
}

/** Forward similarity from scale, rotation (radians, image axes) and translation. */
function similarityMatrix(s: number, theta: number, tx: number, ty: number): Matrix2x3 {
  const c = s * Math.cos(theta);
  const n = s * Math.sin(theta);
  return [c, -n, tx, n, c, ty];
}

function expectMatrixClose(actual: Matrix2x3, expected: Matrix2x3, tol: number): void {
  for (let i = 0; i < 6; i++) {
    expect(Math.abs((actual[i] as number) - (expected[i] as number))).toBeLessThanOrEqual(tol);
  }
}

function expectAlignmentError(fn: () => unknown, code: AlignmentErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(AlignmentError);
  expect((caught as AlignmentError).code).toBe(code);
  expect((caught as AlignmentError).name).toBe('AlignmentError');
}

function meanAbsDiff(a: RgbaImage, b: RgbaImage, channels = 3): number {
  expect(a.width).toBe(b.width);
  expect(a.height).toBe(b.height);
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    for (let c = 0; c < channels; c++) {
      sum += Math.abs((a.data[i + c] as number) - (b.data[i + c] as number));
      n++;
    }
  }
  return sum / n;
}

const gradient = (x: number, y: number) => [(x * 5) % 256, (y * 9) % 256, (x + y * 3) % 256, 255] as const;

// ---------------------------------------------------------------- templates

describe('templates', () => {
  it('holds the InsightFace ArcFace 112×112 points', () => {
    expect(ARCFACE_TEMPLATE_112).toEqual([
      { x: 38.2946, y: 51.6963 },
      { x: 73.5318, y: 51.5014 },
      { x: 56.0252, y: 71.7366 },
      { x: 41.5493, y: 92.3655 },
      { x: 70.7299, y: 92.2041 },
    ]);
  });

  it('uses the mean of the mouth corners as the BlazeFace mouth centre', () => {
    const [le, re, nose, ml, mr] = ARCFACE_TEMPLATE_112 as [Point, Point, Point, Point, Point];
    expect(ARCFACE_TEMPLATE_112_BLAZEFACE.slice(0, 3)).toEqual([le, re, nose]);
    const mouth = ARCFACE_TEMPLATE_112_BLAZEFACE[3] as Point;
    expect(mouth.x).toBeCloseTo((ml.x + mr.x) / 2, 12);
    expect(mouth.y).toBeCloseTo((ml.y + mr.y) / 2, 12);
    expect(mouth).toEqual({ x: 56.1396, y: 92.2848 });
  });
});

// ---------------------------------------------------------------- estimateSimilarity

describe('estimateSimilarity', () => {
  it('recovers a known rotation + scale + translation exactly (1e-9)', () => {
    for (const template of [ARCFACE_TEMPLATE_112, ARCFACE_TEMPLATE_112_BLAZEFACE]) {
      const truth = similarityMatrix(2.7, 0.3, 1234.5, -87.25);
      const dst = template.map((p) => applySimilarity(truth, p));
      const fit = estimateSimilarity(template, dst);
      expectMatrixClose(fit.matrix, truth, 1e-9);
      expect(Math.abs(fit.scale - 2.7)).toBeLessThanOrEqual(1e-9);
      expect(Math.abs(fit.rotation - 0.3)).toBeLessThanOrEqual(1e-9);
    }
  });

  it('recovers the photo → crop transform of a rotated, shrunken face', () => {
    // Face drawn 25× larger than the template, rolled by −130°, far into a big photo.
    const cropToPhoto = similarityMatrix(25, (-130 * Math.PI) / 180, 3100.25, 2200.75);
    const photoPoints = ARCFACE_TEMPLATE_112_BLAZEFACE.map((p) => applySimilarity(cropToPhoto, p));
    const fit = estimateSimilarity(photoPoints, ARCFACE_TEMPLATE_112_BLAZEFACE);
    expectMatrixClose(fit.matrix, invertSimilarity(cropToPhoto), 1e-9);
    expect(Math.abs(fit.scale - 1 / 25)).toBeLessThanOrEqual(1e-12);
    expect(Math.abs(fit.rotation - (130 * Math.PI) / 180)).toBeLessThanOrEqual(1e-9);
  });

  it('returns the identity when keypoints already sit on the template', () => {
    const fit = estimateSimilarity(ARCFACE_TEMPLATE_112_BLAZEFACE, ARCFACE_TEMPLATE_112_BLAZEFACE);
    expectMatrixClose(fit.matrix, [1, 0, 0, 0, 1, 0], 1e-9);
    expect(Math.abs(fit.scale - 1)).toBeLessThanOrEqual(1e-12);
    expect(Math.abs(fit.rotation)).toBeLessThanOrEqual(1e-12);
  });

  it('matches scikit-image / InsightFace Umeyama on noisy keypoints', () => {
    // Reference: skimage.transform._geometric._umeyama(src, dst, True) transcribed to
    // NumPy 2.4 (SVD form), run on these points; first two rows of the 3×3 result.
    const src: Point[] = [
      { x: 1812.4, y: 1391.7 },
      { x: 2248.9, y: 1433.2 },
      { x: 2031.6, y: 1668.0 },
      { x: 2007.3, y: 1905.8 },
    ];
    const expected: Matrix2x3 = [
      0.08117446809863331, 0.005436792946988569, -117.08165838061132, -0.005436792946988569, 0.08117446809863331, -52.038214698382035,
    ];
    const fit = estimateSimilarity(src, ARCFACE_TEMPLATE_112_BLAZEFACE);
    expectMatrixClose(fit.matrix, expected, 1e-10);
    // Residuals stay small for real-looking keypoints.
    src.forEach((p, i) => {
      const q = applySimilarity(fit.matrix, p);
      const t = ARCFACE_TEMPLATE_112_BLAZEFACE[i] as Point;
      expect(Math.hypot(q.x - t.x, q.y - t.y)).toBeLessThan(4);
    });
  });

  it('never produces a reflection, even for mirrored points (as Umeyama with det(A) < 0)', () => {
    const mirrored = ARCFACE_TEMPLATE_112_BLAZEFACE.map((p) => ({ x: 112 - p.x, y: p.y }));
    const src: Point[] = [
      { x: 1812.4, y: 1391.7 },
      { x: 2248.9, y: 1433.2 },
      { x: 2031.6, y: 1668.0 },
      { x: 2007.3, y: 1905.8 },
    ];
    const fit = estimateSimilarity(src, mirrored);
    const [a, b, , d, e] = fit.matrix;
    expect(a * e - b * d).toBeGreaterThan(0);
    expect(a).toBeCloseTo(e, 15);
    expect(b).toBeCloseTo(-d, 15);
    // Same answer as the scikit-image reference for this case.
    expectMatrixClose(
      fit.matrix,
      [0.02316530454077586, -0.0006614998804450834, 10.149484860952832, 0.0006614998804450833, 0.02316530454077586, 28.40824612583907],
      1e-10,
    );
    // An exact mirror image of the template cannot be reached by a similarity.
    const self = estimateSimilarity(
      ARCFACE_TEMPLATE_112,
      ARCFACE_TEMPLATE_112.map((p) => ({ x: -p.x, y: p.y })),
    );
    expect(self.matrix[0] * self.matrix[4] - self.matrix[1] * self.matrix[3]).toBeGreaterThan(0);
  });

  it('rejects coincident points', () => {
    const same = [
      { x: 10, y: 20 },
      { x: 10, y: 20 },
      { x: 10, y: 20 },
      { x: 10, y: 20 },
    ];
    expectAlignmentError(() => estimateSimilarity(same, ARCFACE_TEMPLATE_112_BLAZEFACE), 'degenerate-keypoints');
    expectAlignmentError(() => estimateSimilarity(ARCFACE_TEMPLATE_112_BLAZEFACE, same), 'degenerate-keypoints');
    expectAlignmentError(() => alignFace(makeImage(4, 4, gradient), same), 'degenerate-keypoints');
  });

  it('rejects NaN and infinite coordinates', () => {
    const withNaN = ARCFACE_TEMPLATE_112_BLAZEFACE.map((p, i) => (i === 2 ? { x: NaN, y: p.y } : p));
    expectAlignmentError(() => estimateSimilarity(withNaN, ARCFACE_TEMPLATE_112_BLAZEFACE), 'non-finite-keypoints');
    const withInf = ARCFACE_TEMPLATE_112_BLAZEFACE.map((p, i) => (i === 0 ? { x: p.x, y: Infinity } : p));
    expectAlignmentError(() => estimateSimilarity(ARCFACE_TEMPLATE_112_BLAZEFACE, withInf), 'non-finite-keypoints');
  });

  it('rejects fewer than 2 pairs and mismatched lists', () => {
    const one = [{ x: 1, y: 2 }];
    expectAlignmentError(() => estimateSimilarity(one, one), 'too-few-keypoints');
    expectAlignmentError(() => estimateSimilarity([], []), 'too-few-keypoints');
    expectAlignmentError(() => estimateSimilarity(ARCFACE_TEMPLATE_112, ARCFACE_TEMPLATE_112_BLAZEFACE), 'mismatched-keypoints');
  });

  it('fits two points exactly', () => {
    const fit = estimateSimilarity(
      [
        { x: 0, y: 0 },
        { x: 10, y: 0 },
      ],
      [
        { x: 5, y: 5 },
        { x: 5, y: 25 },
      ],
    );
    expectMatrixClose(fit.matrix, [0, -2, 5, 2, 0, 5], 1e-12);
    expect(fit.rotation).toBeCloseTo(Math.PI / 2, 12);
  });
});

// ---------------------------------------------------------------- inverse / apply / keypoints

describe('invertSimilarity and applySimilarity', () => {
  it('inverts: m ∘ m⁻¹ maps points back (1e-9)', () => {
    const m = similarityMatrix(0.37, -2.1, 45.5, -900);
    const inv = invertSimilarity(m);
    for (const p of [
      { x: 0, y: 0 },
      { x: 4000, y: 3000 },
      { x: -12.5, y: 77.25 },
    ]) {
      const q = applySimilarity(inv, applySimilarity(m, p));
      expect(Math.abs(q.x - p.x)).toBeLessThan(1e-9);
      expect(Math.abs(q.y - p.y)).toBeLessThan(1e-9);
    }
  });

  it('applies the matrix row-major: (a·x + b·y + c, d·x + e·y + f)', () => {
    expect(applySimilarity([1, 2, 3, 4, 5, 6], { x: 10, y: 100 })).toEqual({ x: 213, y: 546 });
  });

  it('rejects singular and non-finite matrices', () => {
    expectAlignmentError(() => invertSimilarity([0, 0, 1, 0, 0, 1]), 'degenerate-transform');
    expectAlignmentError(() => invertSimilarity([1, 0, NaN, 0, 1, 0]), 'degenerate-transform');
  });
});

// ---------------------------------------------------------------- warpSimilarity

describe('warpSimilarity', () => {
  it('returns the same pixels for the identity', () => {
    const img = makeImage(112, 112, gradient);
    const out = warpSimilarity(img, [1, 0, 0, 0, 1, 0]);
    expect(out.width).toBe(112);
    expect(out.height).toBe(112);
    expect(Array.from(out.data)).toEqual(Array.from(img.data));
  });

  it('shifts by whole pixels for an integer translation, with 0 outside', () => {
    const img = makeImage(20, 15, gradient);
    const dx = 3;
    const dy = -2;
    const out = warpSimilarity(img, [1, 0, dx, 0, 1, dy], 20, 15);
    for (let y = 0; y < 15; y++) {
      for (let x = 0; x < 20; x++) {
        const sx = x - dx;
        const sy = y - dy;
        const inside = sx >= 0 && sx < 20 && sy >= 0 && sy < 15;
        expect(px(out, x, y)).toEqual(inside ? px(img, sx, sy) : [0, 0, 0, 0]);
      }
    }
  });

  it('is all zeros (transparent black) when the output lies outside the source', () => {
    const img = makeImage(30, 30, () => [255, 255, 255, 255]);
    const out = warpSimilarity(img, [1, 0, -1000, 0, 1, 0], 16, 16);
    expect(out.data.every((v) => v === 0)).toBe(true);
  });

  it('interpolates bilinearly with pixel centres at integers (hand-computed 2×2)', () => {
    // Red channel: P(0,0)=10, P(1,0)=20, P(0,1)=30, P(1,1)=40.
    const img: RgbaImage = {
      width: 2,
      height: 2,
      data: new Uint8ClampedArray([10, 0, 0, 255, 20, 0, 0, 255, 30, 0, 0, 255, 40, 0, 0, 255]),
    };
    // Output (0,0) samples source (0.3, 0.6):
    // 0.4·(0.7·10 + 0.3·20) + 0.6·(0.7·30 + 0.3·40) = 0.4·13 + 0.6·33 = 25.
    expect(px(warpSimilarity(img, [1, 0, -0.3, 0, 1, -0.6], 1, 1), 0, 0)).toEqual([25, 0, 0, 255]);
    // Source (0.25, 0.5): 0.5·12.5 + 0.5·32.5 = 22.5 → rounds half up to 23.
    expect(px(warpSimilarity(img, [1, 0, -0.25, 0, 1, -0.5], 1, 1), 0, 0)).toEqual([23, 0, 0, 255]);
    // Source (1.5, 0): halfway to the border, blends with 0 like OpenCV BORDER_CONSTANT.
    expect(px(warpSimilarity(img, [1, 0, -1.5, 0, 1, 0], 1, 1), 0, 0)).toEqual([10, 0, 0, 128]);
    // Source (−0.5, −0.5): a quarter of P(0,0); alpha 255/4 = 63.75 → 64.
    expect(px(warpSimilarity(img, [1, 0, 0.5, 0, 1, 0.5], 1, 1), 0, 0)).toEqual([3, 0, 0, 64]);
  });

  it('follows the matrix orientation: a 90° rotation moves pixels as the matrix says', () => {
    const img = makeImage(9, 7, gradient);
    // Forward: x' = −y + 6, y' = x. So out(x', y') = src(y', 6 − x').
    const out = warpSimilarity(img, [0, -1, 6, 1, 0, 0], 7, 9);
    for (let y = 0; y < 9; y++) {
      for (let x = 0; x < 7; x++) {
        expect(px(out, x, y)).toEqual(px(img, y, 6 - x));
      }
    }
  });
});

// ---------------------------------------------------------------- box filter and prefilter rule

describe('prefilter', () => {
  it('chooses k = floor(1/scale) below scale 0.5 and 1 otherwise', () => {
    expect(prefilterFactor(1.7)).toBe(1);
    expect(prefilterFactor(0.5)).toBe(1);
    expect(prefilterFactor(0.4999)).toBe(2);
    expect(prefilterFactor(0.25)).toBe(4);
    expect(prefilterFactor(1 / 3)).toBe(3);
    expect(prefilterFactor(0.1)).toBe(10);
    expect(prefilterFactor(0.09)).toBe(11);
  });

  it('box-averages k×k blocks and drops partial edge blocks', () => {
    const img = makeImage(5, 4, (x, y) => [x + 10 * y, 100, 2 * x, 255]);
    const small = boxDownsample(img, 2);
    expect(small.width).toBe(2);
    expect(small.height).toBe(2);
    // Block (0,0): x∈{0,1}, y∈{0,1} → red (0+1+10+11)/4 = 5.5.
    expect(Array.from(small.data.subarray(0, 4))).toEqual([5.5, 100, 1, 255]);
    // Block (1,1): x∈{2,3}, y∈{2,3} → red (22+23+32+33)/4 = 27.5, blue (4+6+4+6)/4 = 5.
    expect(Array.from(small.data.subarray(12, 16))).toEqual([27.5, 100, 5, 255]);
    const region = boxDownsample(img, 2, { x0: 1, y0: 1, x1: 9, y1: 9 });
    expect(region.width).toBe(1);
    expect(region.height).toBe(1);
    expect(Array.from(region.data)).toEqual([27.5, 100, 5, 255]);
  });
});

// ---------------------------------------------------------------- alignFace

/** A light face-like drawing: dark discs at the keypoints on a bright ramp. */
function drawFace(width: number, height: number, keypoints: readonly Point[], radius: number): RgbaImage {
  return makeImage(width, height, (x, y) => {
    for (const k of keypoints) {
      if ((x - k.x) ** 2 + (y - k.y) ** 2 <= radius * radius) return [20, 20, 20, 255];
    }
    return [200, 190 + ((x + y) % 10), 180, 255];
  });
}

/** Centroid of dark pixels (red < 100) of `img` within `r` of `c`. */
function darkCentroid(img: RgbaImage, c: Point, r: number): Point {
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let y = Math.floor(c.y - r); y <= Math.ceil(c.y + r); y++) {
    for (let x = Math.floor(c.x - r); x <= Math.ceil(c.x + r); x++) {
      if (x < 0 || y < 0 || x >= img.width || y >= img.height) continue;
      const v = img.data[(y * img.width + x) * 4] as number;
      if (v < 100) {
        sx += x;
        sy += y;
        n++;
      }
    }
  }
  expect(n).toBeGreaterThan(0);
  return { x: sx / n, y: sy / n };
}

describe('alignFace', () => {
  // The face in the photo: template × 2.5, rolled 15° clockwise on screen, placed at (300, 220).
  const cropToPhoto = similarityMatrix(2.5, (15 * Math.PI) / 180, 170, 40);
  const blaze = ARCFACE_TEMPLATE_112_BLAZEFACE.map((p) => applySimilarity(cropToPhoto, p));
  const ears = [
    { x: blaze[0]!.x - 60, y: blaze[0]!.y + 30 },
    { x: blaze[1]!.x + 60, y: blaze[1]!.y + 30 },
  ];
  const photo = drawFace(640, 480, blaze, 10);

  it('maps the keypoints onto the template and reports scale, roll and prefilter', () => {
    const aligned = alignFace(photo, [...blaze, ...ears]);
    expect(aligned.crop.width).toBe(ALIGNED_CROP_SIZE);
    expect(aligned.crop.height).toBe(ALIGNED_CROP_SIZE);
    blaze.forEach((p, i) => {
      const q = applySimilarity(aligned.transform, p);
      const t = ARCFACE_TEMPLATE_112_BLAZEFACE[i]!;
      expect(Math.abs(q.x - t.x)).toBeLessThan(1e-9);
      expect(Math.abs(q.y - t.y)).toBeLessThan(1e-9);
    });
    expect(aligned.scale).toBeCloseTo(0.4, 12);
    expect(aligned.rollDegrees).toBeCloseTo(15, 9);
    expect(aligned.prefilterFactor).toBe(2);
  });

  it('puts the drawn eyes, nose and mouth where the template says', () => {
    const { crop } = alignFace(photo, blaze);
    for (const t of ARCFACE_TEMPLATE_112_BLAZEFACE) {
      const c = darkCentroid(crop, t, 7);
      expect(Math.hypot(c.x - t.x, c.y - t.y)).toBeLessThan(0.75);
    }
    // Forehead between the eyes is skin, not a feature; the photo is opaque everywhere here.
    expect(px(crop, 56, 30)[0]).toBe(200);
    expect(crop.data.every((v, i) => i % 4 !== 3 || v === 255)).toBe(true);
  });

  it('rolls the other way for a face turned anticlockwise', () => {
    const ccw = similarityMatrix(1.2, (-40 * Math.PI) / 180, 60, 90);
    const kp = ARCFACE_TEMPLATE_112_BLAZEFACE.map((p) => applySimilarity(ccw, p));
    const aligned = alignFace(drawFace(300, 300, kp, 5), kp);
    expect(aligned.rollDegrees).toBeCloseTo(-40, 9);
    expect(aligned.prefilterFactor).toBe(1);
  });

  it('needs as many keypoints as template points', () => {
    expectAlignmentError(() => alignFace(photo, blaze.slice(0, 3)), 'too-few-keypoints');
    expectAlignmentError(() => alignFace(photo, blaze, ARCFACE_TEMPLATE_112), 'too-few-keypoints');
  });

  it('antialiases: a 4000×3000 photo gives the same crop as its 400×300 version', () => {
    // Continuous scene in small-image units: smooth ramp + four Gaussian features.
    const smallKp = ARCFACE_TEMPLATE_112_BLAZEFACE.map((p) => applySimilarity(similarityMatrix(1, 0.17, 150, 80), p));
    const sigma = 3.5;
    const scene = (gx: number[], gy: number[]) => (x: number, y: number) =>
      110 + 0.12 * x + 0.08 * y - gx.reduce((acc, g, i) => acc + 70 * g * (gy[i] as number), 0);
    const gauss = (d: number) => Math.exp(-(d * d) / (2 * sigma * sigma));

    const small = makeImage(400, 300, (x, y) => {
      const v = scene(
        smallKp.map((k) => gauss(x - k.x)),
        smallKp.map((k) => gauss(y - k.y)),
      )(x, y);
      return [v, v * 0.9, v * 0.8, 255];
    });

    // Large pixel (X, Y) is centred at small coordinates ((X − 4.5)/10, (Y − 4.5)/10).
    // On top: a ±50 one-pixel checkerboard that any proper low-pass removes, and that
    // aliases badly if pixels are picked without filtering.
    const W = 4000;
    const H = 3000;
    const data = new Uint8ClampedArray(W * H * 4);
    const gxs = smallKp.map((k) => Float64Array.from({ length: W }, (_, X) => gauss((X - 4.5) / 10 - k.x)));
    const gys = smallKp.map((k) => Float64Array.from({ length: H }, (_, Y) => gauss((Y - 4.5) / 10 - k.y)));
    for (let Y = 0; Y < H; Y++) {
      const ys = (Y - 4.5) / 10;
      for (let X = 0; X < W; X++) {
        const xs = (X - 4.5) / 10;
        let v = 110 + 0.12 * xs + 0.08 * ys;
        for (let i = 0; i < 4; i++) v -= 70 * gxs[i]![X]! * gys[i]![Y]!;
        const check = (X + Y) & 1 ? 50 : -50;
        const o = (Y * W + X) * 4;
        data[o] = v + check;
        data[o + 1] = v * 0.9 + check;
        data[o + 2] = v * 0.8 + check;
        data[o + 3] = 255;
      }
    }
    const large: RgbaImage = { width: W, height: H, data };
    const largeKp = smallKp.map((p) => ({ x: p.x * 10 + 4.5, y: p.y * 10 + 4.5 }));

    const fromSmall = alignFace(small, smallKp);
    const fromLarge = alignFace(large, largeKp);
    expect(fromSmall.prefilterFactor).toBe(1);
    expect(fromLarge.prefilterFactor).toBe(10);
    expect(fromLarge.scale).toBeCloseTo(fromSmall.scale / 10, 12);

    const mad = meanAbsDiff(fromLarge.crop, fromSmall.crop);
    expect(mad).toBeLessThan(0.25); // measured ≈ 0.04

    // Without the prefilter the checkerboard aliases into the crop.
    const aliased = warpSimilarity(large, fromLarge.transform);
    expect(meanAbsDiff(aliased, fromSmall.crop)).toBeGreaterThan(10 * Math.max(mad, 0.5));
  });

  it('matches an independent NumPy implementation of the documented convention', () => {
    // The photo and the expected checksums come from a NumPy transcription of the
    // docs of alignFace / warpSimilarity / boxDownsample (whole-image box filter,
    // float64 bilinear, border 0, round half up).
    const photo = makeImage(700, 500, (x, y) => [(x * 7 + y * 13) % 256, (x * x + 3 * y) % 251, ((Math.floor(x / 9) + Math.floor(y / 7)) % 2) * 200 + 20, 255]);
    const cases: { kp: [number, number][]; k: number; sum: number; weighted: number; transparent: number }[] = [
      {
        kp: [
          [301.3, 211.7],
          [405.9, 236.4],
          [340.2, 300.8],
          [318.5, 361.1],
        ],
        k: 3,
        sum: 7872638,
        weighted: 3917268039,
        transparent: 0,
      },
      {
        kp: [
          [101.3, 61.7],
          [130.9, 66.4],
          [114.2, 86.8],
          [110.5, 103.1],
        ],
        k: 1,
        sum: 7886368,
        weighted: 3930480733,
        transparent: 0,
      },
      {
        kp: [
          [5, 20],
          [110, 25],
          [50, 90],
          [45, 150],
        ],
        k: 3,
        sum: 3127504,
        weighted: 1557257795,
        transparent: 7492,
      },
      {
        kp: [
          [600, 380],
          [690, 370],
          [650, 440],
          [655, 495],
        ],
        k: 2,
        sum: 4443587,
        weighted: 2212076156,
        transparent: 5406,
      },
    ];
    for (const c of cases) {
      const aligned = alignFace(
        photo,
        c.kp.map(([x, y]) => ({ x, y })),
      );
      expect(aligned.prefilterFactor).toBe(c.k);
      let sum = 0;
      let weighted = 0;
      let transparent = 0;
      aligned.crop.data.forEach((v, i) => {
        sum += v;
        weighted += v * ((i * 31) % 997);
        if (i % 4 === 3 && v === 0) transparent++;
      });
      expect({ sum, weighted, transparent }).toEqual({ sum: c.sum, weighted: c.weighted, transparent: c.transparent });
    }
  });

  it("gives the same crop from only the plan's source region as from the whole photo (k = 1, 2, 3, 13; edges)", () => {
    const photo = makeImage(700, 500, (x, y) => [(x * 7 + y * 13) % 256, (x * x + 3 * y) % 251, (x ^ y) & 255, 255]);
    const sub = (x0: number, y0: number, x1: number, y1: number): RgbaImage => {
      const w = x1 - x0;
      const data = new Uint8ClampedArray(w * (y1 - y0) * 4);
      for (let y = y0; y < y1; y++) data.set(photo.data.subarray((y * photo.width + x0) * 4, (y * photo.width + x1) * 4), (y - y0) * w * 4);
      return { width: w, height: y1 - y0, data };
    };
    const cases: [number, number][][] = [
      [
        [301.3, 211.7],
        [405.9, 236.4],
        [340.2, 300.8],
        [318.5, 361.1],
      ],
      [
        [101.3, 61.7],
        [130.9, 66.4],
        [114.2, 86.8],
        [110.5, 103.1],
      ],
      [
        [5, 20],
        [110, 25],
        [50, 90],
        [45, 150],
      ],
      [
        [600, 380],
        [690, 370],
        [650, 440],
        [655, 495],
      ],
      [
        [40, 60],
        [660, 80],
        [350, 300],
        [340, 470],
      ],
    ];
    const ks = new Set<number>();
    for (const kp of cases) {
      const points = kp.map(([x, y]) => ({ x, y }));
      const plan = planAlignment(points);
      ks.add(plan.prefilterFactor);
      expect(Math.abs(plan.source.x0 % plan.prefilterFactor)).toBe(0);
      const x0 = Math.max(0, plan.source.x0);
      const y0 = Math.max(0, plan.source.y0);
      const region = sub(x0, y0, Math.min(photo.width, plan.source.x1), Math.min(photo.height, plan.source.y1));
      const fromRegion = alignWithPlan(plan, region, { x: x0, y: y0 });
      expect(fromRegion.crop.data).toEqual(alignFace(photo, points).crop.data);
      expect(region.width * region.height).toBeLessThanOrEqual(photo.width * photo.height);
    }
    expect([...ks].sort((a, b) => a - b)).toEqual([1, 2, 3, 13]);
    expect(() => alignWithPlan(planAlignment(cases[0]!.map(([x, y]) => ({ x, y }))), photo, { x: 1, y: 0 })).toThrow(RangeError);
  });
});
