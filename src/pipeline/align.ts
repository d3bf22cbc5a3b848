/**
 * Alignment stage: detected face keypoints → ArcFace-aligned 112×112 crop.
 *
 * Conventions (the training kit's batch aligner, models/training/aligner/, runs this same code through
 * src/screening/pipeline.ts in headless Chromium, so its crops are the app's; there is no Python re-implementation):
 *
 * - **Coordinates** use the pixel-centre convention of OpenCV / InsightFace: the
 *   centre of pixel (column i, row j) is the point (i, j). Keypoints passed in
 *   are in this convention, in the pixels of the image being aligned.
 * - **Matrices** are 2×3 affine matrices stored row-major as
 *   `[a, b, c, d, e, f]`, mapping `(x, y) ↦ (a·x + b·y + c, d·x + e·y + f)`,
 *   i.e. the OpenCV `M` for `cv2.warpAffine(src, M, (w, h))`, flattened.
 * - **Similarity estimation** is the least-squares 4-DoF fit (rotation, uniform
 *   scale, translation, never a reflection) of Umeyama (1991), the same optimum
 *   as scikit-image `SimilarityTransform.estimate` and InsightFace
 *   `face_align.estimate_norm`. In 2-D it has a closed form, used here.
 * - **Warping** is inverse mapping, bilinear, border 0 ({@link warpSimilarity}); the app warps through a
 *   {@link WarpPlan} ({@link planAlignment}, {@link warpWithPlan}), which samples the same way and also reads
 *   only the part of the photo it needs. The face search's views use the same plans.
 * - **Antialiasing**: when the photo → crop transform shrinks by more than 2×
 *   (scale < 0.5), the warp first box-filters the photo by an integer
 *   factor k = floor(1/scale + 1e-9) and then warps the reduced image with bilinear
 *   sampling (the exact rule: {@link prefilterFactor}, {@link warpWithPlan}).
 */

import type { Point, RgbaImage, Size } from './image';
import { assertRgbaImage } from './image';

/** Side of the aligned crop fed to the network, in pixels. */
export const ALIGNED_CROP_SIZE = 112;

/**
 * The ArcFace/InsightFace 112×112 five-point template (pixel-centre coordinates
 * in the crop): image-left eye (the subject's right eye), image-right eye, nose
 * tip, image-left mouth corner, image-right mouth corner.
 */
export const ARCFACE_TEMPLATE_112: readonly Point[] = Object.freeze([
  { x: 38.2946, y: 51.6963 },
  { x: 73.5318, y: 51.5014 },
  { x: 56.0252, y: 71.7366 },
  { x: 41.5493, y: 92.3655 },
  { x: 70.7299, y: 92.2041 },
]);

/**
 * The four-point template used with BlazeFace, which has no mouth corners:
 * image-left eye, image-right eye, nose tip, and the mouth centre, which is the
 * mean of the two template mouth corners, (56.1396, 92.2848). This is the order of
 * BlazeFace's first four keypoints (MediaPipe order: subject's right eye, left eye,
 * nose tip, mouth centre, then the two ear tragions, which alignment ignores), so
 * keypoint i pairs with template point i by anatomical index, not image position.
 */
export const ARCFACE_TEMPLATE_112_BLAZEFACE: readonly Point[] = Object.freeze([
  { x: 38.2946, y: 51.6963 },
  { x: 73.5318, y: 51.5014 },
  { x: 56.0252, y: 71.7366 },
  { x: 56.1396, y: 92.2848 },
]);

/** Row-major 2×3 affine matrix `[a, b, c, d, e, f]`: x' = a·x + b·y + c, y' = d·x + e·y + f. */
export type Matrix2x3 = readonly [number, number, number, number, number, number];

/**
 * A similarity transform: `matrix = [s·cos θ, −s·sin θ, tx, s·sin θ, s·cos θ, ty]`.
 * `rotation` is θ in radians, in image axes (x right, y down), so a positive θ
 * turns clockwise on screen.
 */
export interface Similarity {
  readonly matrix: Matrix2x3;
  readonly scale: number;
  readonly rotation: number;
}

export type AlignmentErrorCode =
  /** Fewer than 2 point pairs, or fewer keypoints than template points. */
  | 'too-few-keypoints'
  /** Source and destination point lists differ in length. */
  | 'mismatched-keypoints'
  /** A coordinate is NaN or infinite. */
  | 'non-finite-keypoints'
  /** The points do not determine a transform (all coincident, zero spread). */
  | 'degenerate-keypoints'
  /** A matrix is not invertible or holds non-finite numbers. */
  | 'degenerate-transform';

/** Why a face could not be aligned. `code` is stable; `message` is for logs. */
export class AlignmentError extends Error {
  readonly code: AlignmentErrorCode;

  constructor(code: AlignmentErrorCode, message: string) {
    super(message);
    this.name = 'AlignmentError';
    this.code = code;
  }
}

/**
 * Least-squares similarity transform (rotation + uniform scale + translation, no
 * reflection) mapping `src[i]` onto `dst[i]`.
 *
 * This is Umeyama's method as in scikit-image `SimilarityTransform.estimate`
 * (`_umeyama(src, dst, estimate_scale=True)`); in 2-D its SVD reduces to the closed
 * form used here. With centred points x̃ᵢ = srcᵢ − mean(src), ỹᵢ = dstᵢ − mean(dst):
 *
 *     A = Σ (x̃ᵢ·ỹᵢ)                (dot products)
 *     B = Σ (x̃ᵢ.x·ỹᵢ.y − x̃ᵢ.y·ỹᵢ.x)  (cross products)
 *     V = Σ |x̃ᵢ|²
 *     s·cos θ = A / V,  s·sin θ = B / V,  t = mean(dst) − sR·mean(src)
 *
 * @throws AlignmentError `'mismatched-keypoints'`, `'too-few-keypoints'` (< 2
 *   pairs), `'non-finite-keypoints'`, `'degenerate-keypoints'` (no spread in src
 *   or dst, or the fit has zero scale).
 */
export function estimateSimilarity(src: readonly Point[], dst: readonly Point[]): Similarity {
  const n = src.length;
  if (dst.length !== n) {
    throw new AlignmentError('mismatched-keypoints', `source has ${n} points but destination has ${dst.length}`);
  }
  if (n < 2) {
    throw new AlignmentError('too-few-keypoints', `a similarity needs at least 2 point pairs, got ${n}`);
  }
  let sx = 0;
  let sy = 0;
  let dx = 0;
  let dy = 0;
  for (let i = 0; i < n; i++) {
    const p = src[i] as Point;
    const q = dst[i] as Point;
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y) || !Number.isFinite(q.x) || !Number.isFinite(q.y)) {
      throw new AlignmentError('non-finite-keypoints', `point pair ${i} has a non-finite coordinate`);
    }
    sx += p.x;
    sy += p.y;
    dx += q.x;
    dy += q.y;
  }
  sx /= n;
  sy /= n;
  dx /= n;
  dy /= n;

  let dot = 0;
  let cross = 0;
  let srcVar = 0;
  let dstVar = 0;
  for (let i = 0; i < n; i++) {
    const p = src[i] as Point;
    const q = dst[i] as Point;
    const px = p.x - sx;
    const py = p.y - sy;
    const qx = q.x - dx;
    const qy = q.y - dy;
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
    srcVar += px * px + py * py;
    dstVar += qx * qx + qy * qy;
  }

  // "Coincident" means no spread beyond rounding noise relative to where the points are.
  const srcTol = 1e-9 * Math.max(1, Math.abs(sx), Math.abs(sy));
  const dstTol = 1e-9 * Math.max(1, Math.abs(dx), Math.abs(dy));
  if (!(Math.sqrt(srcVar / n) > srcTol) || !(Math.sqrt(dstVar / n) > dstTol)) {
    throw new AlignmentError('degenerate-keypoints', 'keypoints coincide: they have no spread to fit a scale and rotation to');
  }
  const norm = Math.hypot(dot, cross);
  if (!(norm > 1e-12 * Math.sqrt(srcVar * dstVar))) {
    throw new AlignmentError('degenerate-keypoints', 'source and destination points are uncorrelated: the fitted scale is zero');
  }
  const sc = dot / srcVar; // s·cos θ
  const ss = cross / srcVar; // s·sin θ
  const matrix: Matrix2x3 = [sc, -ss, dx - (sc * sx - ss * sy), ss, sc, dy - (ss * sx + sc * sy)];
  const scale = norm / srcVar;
  if (!matrix.every(Number.isFinite) || !Number.isFinite(scale)) {
    throw new AlignmentError('degenerate-keypoints', 'the fitted transform is not finite');
  }
  return { matrix, scale, rotation: Math.atan2(cross, dot) };
}

/**
 * Inverse of an affine 2×3 matrix (any invertible one, not only similarities).
 * @throws AlignmentError `'degenerate-transform'` when the matrix is singular or non-finite.
 */
export function invertSimilarity(m: Matrix2x3): Matrix2x3 {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (!m.every(Number.isFinite) || det === 0 || !Number.isFinite(1 / det)) {
    throw new AlignmentError('degenerate-transform', `matrix [${m.join(', ')}] is not invertible`);
  }
  const ia = e / det;
  const ib = -b / det;
  const id = -d / det;
  const ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/** Applies a 2×3 matrix to a point: (a·x + b·y + c, d·x + e·y + f). */
export function applySimilarity(m: Matrix2x3, p: Point): Point {
  return { x: m[0] * p.x + m[1] * p.y + m[2], y: m[3] * p.x + m[4] * p.y + m[5] };
}

/**
 * Warps `src` by the forward matrix `m` (source pixels → output pixels) into an
 * `outW`×`outH` image, exactly like
 * `cv2.warpAffine(src, m, (outW, outH), flags=INTER_LINEAR, borderMode=BORDER_CONSTANT, borderValue=0)`
 * but in float64 rather than OpenCV's 5-bit fixed-point weights:
 *
 * 1. `inv = invertSimilarity(m)`.
 * 2. For each output pixel with integer coordinates (x, y):
 *    `u = inv[0]·x + inv[1]·y + inv[2]`, `v = inv[3]·x + inv[4]·y + inv[5]`
 *    (source coordinates; source pixel centres are at integers).
 * 3. `x0 = floor(u)`, `y0 = floor(v)`, `fx = u − x0`, `fy = v − y0`; per channel
 *    (R, G, B, A)
 *    `val = (1−fy)·((1−fx)·P(x0,y0) + fx·P(x0+1,y0)) + fy·((1−fx)·P(x0,y0+1) + fx·P(x0+1,y0+1))`
 *    where `P` is 0 outside the source (so edge pixels blend towards transparent
 *    black, like OpenCV's constant border).
 * 4. Stored as `min(255, max(0, floor(val + 0.5)))` (round half up).
 *
 * No antialiasing: use {@link alignFace} when the transform may shrink by > 2×.
 */
export function warpSimilarity(src: RgbaImage, m: Matrix2x3, outW: number = ALIGNED_CROP_SIZE, outH: number = ALIGNED_CROP_SIZE): RgbaImage {
  assertRgbaImage(src);
  assertOutputSize(outW, outH);
  return warpInverse(src.width, src.height, src.data, invertSimilarity(m), outW, outH);
}

/** An RGBA image with float channels (0–255 scale), e.g. a box-filtered photo. */
export interface RgbaFloatImage {
  readonly width: number;
  readonly height: number;
  readonly data: Float64Array;
}

/** A rectangle of whole pixels: columns [x0, x1), rows [y0, y1). */
export interface PixelRegion {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

/**
 * Box-filter downsampling by an integer factor `k`: output pixel (i, j) is the
 * float mean of source pixels [k·i, k·i + k) × [k·j, k·j + k), per channel. The
 * output of the whole image is floor(W/k) × floor(H/k) (a partial block at the
 * right or bottom edge is dropped). Its pixel (i, j) is centred at source
 * coordinates (k·i + (k−1)/2, k·j + (k−1)/2). In NumPy:
 * `img[:H//k*k, :W//k*k].reshape(H//k, k, W//k, k, 4).mean(axis=(1, 3))`.
 *
 * @param region Optional sub-rectangle of the *downsampled* grid to compute
 *   (clamped to it); the result then holds only those pixels.
 */
export function boxDownsample(src: RgbaImage, k: number, region?: PixelRegion): RgbaFloatImage {
  assertRgbaImage(src);
  if (!Number.isInteger(k) || k < 1) {
    throw new RangeError(`downsampling factor must be a positive integer, got ${k}`);
  }
  const fullW = Math.floor(src.width / k);
  const fullH = Math.floor(src.height / k);
  const x0 = Math.max(0, region?.x0 ?? 0);
  const y0 = Math.max(0, region?.y0 ?? 0);
  const x1 = Math.min(fullW, region?.x1 ?? fullW);
  const y1 = Math.min(fullH, region?.y1 ?? fullH);
  const width = Math.max(0, x1 - x0);
  const height = Math.max(0, y1 - y0);
  const data = new Float64Array(width * height * 4);
  const sdata = src.data;
  const stride = src.width * 4;
  const area = k * k;
  for (let j = 0; j < height; j++) {
    const rowStart = (y0 + j) * k;
    for (let i = 0; i < width; i++) {
      const colStart = (x0 + i) * k;
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let yy = rowStart; yy < rowStart + k; yy++) {
        let s = yy * stride + colStart * 4;
        for (let xx = 0; xx < k; xx++, s += 4) {
          r += sdata[s] as number;
          g += sdata[s + 1] as number;
          b += sdata[s + 2] as number;
          a += sdata[s + 3] as number;
        }
      }
      const o = (j * width + i) * 4;
      data[o] = r / area;
      data[o + 1] = g / area;
      data[o + 2] = b / area;
      data[o + 3] = a / area;
    }
  }
  return { width, height, data };
}

/** Result of {@link alignFace}. */
export interface AlignedFace {
  /** The aligned crop, 112×112; pixels from outside the photo are (0, 0, 0, 0). */
  readonly crop: RgbaImage;
  /** Forward matrix, photo pixel-centre coordinates → crop coordinates. */
  readonly transform: Matrix2x3;
  /** Crop pixels per photo pixel (< 1 when the face is larger in the photo). */
  readonly scale: number;
  /**
   * Roll of the face in the photo relative to the template, in degrees in
   * (−180, 180]: positive when the face is turned clockwise on screen (the
   * image-right eye lower than it would be upright). The crop undoes it.
   */
  readonly rollDegrees: number;
  /** Box-filter factor k applied before warping (1 = none). */
  readonly prefilterFactor: number;
}

/**
 * The prefilter rule: the integer box-filter factor used by {@link alignFace} for
 * a photo → crop `scale` (crop pixels per photo pixel). 1 (no prefilter) when
 * scale ≥ 0.5; otherwise floor(1/scale + 1e-9), so that the remaining bilinear
 * warp has scale·k in (0.5, 1] and never shrinks by 2× or more. The 1e-9 keeps
 * exact reciprocals (scale = 0.25 → k = 4) stable against rounding.
 */
export function prefilterFactor(scale: number): number {
  if (!(scale > 0) || !Number.isFinite(scale)) {
    throw new AlignmentError('degenerate-transform', `invalid scale ${scale}`);
  }
  return scale >= 0.5 ? 1 : Math.floor(1 / scale + 1e-9);
}

/**
 * Everything a warp decides before it reads a pixel: the map, the prefilter factor, and the part of the photo it
 * samples. Alignment ({@link planAlignment}) and the face search's views (src/pipeline/face-search.ts) both warp
 * through this, so both resample photos the same way on every engine (the browser's own canvas resampling differs
 * between Chromium and WebKit, enough to move BlazeFace's keypoints and the crop).
 */
export interface WarpPlan {
  /** Photo pixel-centre coordinates → output coordinates (any invertible affine map). */
  readonly matrix: Matrix2x3;
  /** Output pixel → photo coordinates. */
  readonly inverse: Matrix2x3;
  readonly width: number;
  readonly height: number;
  /** Box-filter factor k ({@link prefilterFactor} of the map's scale). */
  readonly prefilterFactor: number;
  /**
   * The photo pixels the warp can read, columns [x0, x1) and rows [y0, y1), unclamped: x0 and y0 are multiples of
   * the prefilter factor, so a sub-image starting there reduces on the same k-grid as the whole photo.
   */
  readonly source: PixelRegion;
}

/** The plan of a warp by `matrix` (photo → output) into a `width`×`height` image. */
export function planWarp(matrix: Matrix2x3, width: number, height: number): WarpPlan {
  assertOutputSize(width, height);
  const inverse = invertSimilarity(matrix);
  const k = prefilterFactor(Math.sqrt(Math.abs(matrix[0] * matrix[4] - matrix[1] * matrix[3])));
  const size: Size = { width, height };
  let source: PixelRegion;
  if (k === 1) {
    source = sampledRegion(inverse, size);
  } else {
    // Whole k-blocks of the photo, in photo pixels; the block grid starts at photo pixel 0.
    const r = sampledRegion(reducedInverse(inverse, k), size);
    source = { x0: r.x0 * k, y0: r.y0 * k, x1: r.x1 * k, y1: r.y1 * k };
  }
  return { matrix, inverse, width, height, prefilterFactor: k, source };
}

/** Crop pixel → coordinates in the k-reduced photo, whose pixel i is centred on photo coordinate k·i + (k−1)/2. */
function reducedInverse(inv: Matrix2x3, k: number): Matrix2x3 {
  const c = (k - 1) / 2;
  return [inv[0] / k, inv[1] / k, (inv[2] - c) / k, inv[3] / k, inv[4] / k, (inv[5] - c) / k];
}

/**
 * Warps `image`, which holds the photo's pixels from `origin` on (the whole photo at origin (0, 0), or any
 * sub-image that contains the part of `plan.source` inside the photo, with an origin on the prefilter's k-grid).
 * Pixels outside `image` read as 0, as outside the photo. The result is the same for the whole photo and for such
 * a sub-image.
 *
 * Antialiasing (prefilter rule): with k = `plan.prefilterFactor`, if k = 1 the output is
 * `warpSimilarity(photo, matrix)`. If k ≥ 2 it is exactly `warpInverse(boxDownsample(photo, k), inv')` where
 * `inv' = [ia/k, ib/k, (ic − (k−1)/2)/k, id/k, ie/k, (if − (k−1)/2)/k]` and `[ia … if]` is the inverse map:
 * output pixel → photo coordinates → coordinates in the k-reduced image, whose pixel i is centred on photo
 * coordinate k·i + (k−1)/2. Sampling is bilinear with border 0 as in {@link warpSimilarity}; the reduced image
 * stays in float (no rounding before the warp). Only the part of the reduced image that the output can touch is
 * computed.
 */
export function warpWithPlan(plan: WarpPlan, image: RgbaImage, origin: { x: number; y: number } = { x: 0, y: 0 }): RgbaImage {
  assertRgbaImage(image);
  const k = plan.prefilterFactor;
  if (origin.x % k !== 0 || origin.y % k !== 0) throw new RangeError(`sub-image origin (${origin.x}, ${origin.y}) is not on the ${k}-pixel prefilter grid`);
  const inv = plan.inverse;
  if (k === 1) {
    const local: Matrix2x3 = [inv[0], inv[1], inv[2] - origin.x, inv[3], inv[4], inv[5] - origin.y];
    return warpInverse(image.width, image.height, image.data, local, plan.width, plan.height);
  }
  // The reduced grid of the sub-image is the photo's, shifted by origin / k whole pixels (exact).
  const region = reducedRegion(plan);
  const shifted = { x0: region.x0 - origin.x / k, y0: region.y0 - origin.y / k, x1: region.x1 - origin.x / k, y1: region.y1 - origin.y / k };
  const reduced = boxDownsample(image, k, shifted);
  return warpFromReduced(plan, reduced, { x: Math.max(0, shifted.x0) + origin.x / k, y: Math.max(0, shifted.y0) + origin.y / k });
}

/** For a prefiltered plan (k ≥ 2): the pixels of the k-reduced photo the warp samples (unclamped). */
export function reducedRegion(plan: WarpPlan): PixelRegion {
  return sampledRegion(reducedInverse(plan.inverse, plan.prefilterFactor), { width: plan.width, height: plan.height });
}

/**
 * The warp of a prefiltered plan from pixels of the k-reduced photo (`boxDownsample` of it) whose pixel (0, 0) is
 * reduced pixel `origin`: for callers that reduce a large photo in pieces rather than hold it whole.
 */
export function warpFromReduced(plan: WarpPlan, reduced: RgbaFloatImage, origin: { x: number; y: number }): RgbaImage {
  const red = reducedInverse(plan.inverse, plan.prefilterFactor);
  const local: Matrix2x3 = [red[0], red[1], red[2] - origin.x, red[3], red[4], red[5] - origin.y];
  return warpInverse(reduced.width, reduced.height, reduced.data, local, plan.width, plan.height);
}

/** A {@link WarpPlan} for the aligned crop of one face, with the similarity it was fitted with. */
export interface AlignmentPlan extends WarpPlan {
  readonly similarity: Similarity;
}

/**
 * Fits the similarity from `keypoints` to `template` ({@link estimateSimilarity}; `keypoints[i]` pairs with
 * `template[i]`, extra keypoints such as BlazeFace's ears are ignored) and plans the 112×112 warp. Keypoints are
 * in pixel-centre coordinates of the photo.
 *
 * @throws AlignmentError as {@link estimateSimilarity}.
 */
export function planAlignment(keypoints: readonly Point[], template: readonly Point[] = ARCFACE_TEMPLATE_112_BLAZEFACE): AlignmentPlan {
  if (keypoints.length < template.length) {
    throw new AlignmentError('too-few-keypoints', `template has ${template.length} points but only ${keypoints.length} keypoints were given`);
  }
  const similarity = estimateSimilarity(keypoints.slice(0, template.length), template);
  return { ...planWarp(similarity.matrix, ALIGNED_CROP_SIZE, ALIGNED_CROP_SIZE), similarity };
}

/** The aligned face of a plan ({@link warpWithPlan} for the pixels), with its transform, scale and roll. */
export function alignWithPlan(plan: AlignmentPlan, image: RgbaImage, origin: { x: number; y: number } = { x: 0, y: 0 }): AlignedFace {
  const crop = warpWithPlan(plan, image, origin);
  const { matrix, scale, rotation } = plan.similarity;
  let rollDegrees = (-rotation * 180) / Math.PI;
  if (rollDegrees <= -180) rollDegrees += 360;
  return { crop, transform: matrix, scale, rollDegrees, prefilterFactor: plan.prefilterFactor };
}

/**
 * Aligns a face in a whole image: {@link planAlignment} then {@link alignWithPlan}.
 *
 * @throws AlignmentError as {@link estimateSimilarity}.
 */
export function alignFace(src: RgbaImage, keypoints: readonly Point[], template: readonly Point[] = ARCFACE_TEMPLATE_112_BLAZEFACE): AlignedFace {
  assertRgbaImage(src);
  return alignWithPlan(planAlignment(keypoints, template), src);
}

/** Source pixels (floor(u)..floor(u)+1) that bilinear sampling of the output grid can read. */
function sampledRegion(inv: Matrix2x3, out: Size): PixelRegion {
  let minU = Infinity;
  let minV = Infinity;
  let maxU = -Infinity;
  let maxV = -Infinity;
  for (const [x, y] of [
    [0, 0],
    [out.width - 1, 0],
    [0, out.height - 1],
    [out.width - 1, out.height - 1],
  ] as const) {
    const u = inv[0] * x + inv[1] * y + inv[2];
    const v = inv[3] * x + inv[4] * y + inv[5];
    minU = Math.min(minU, u);
    maxU = Math.max(maxU, u);
    minV = Math.min(minV, v);
    maxV = Math.max(maxV, v);
  }
  // One extra pixel of margin on each side guards against rounding in the corners.
  return {
    x0: Math.floor(minU) - 1,
    y0: Math.floor(minV) - 1,
    x1: Math.floor(maxU) + 3,
    y1: Math.floor(maxV) + 3,
  };
}

function assertOutputSize(w: number, h: number): void {
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1) {
    throw new RangeError(`invalid output size ${w}×${h}`);
  }
}

/**
 * Bilinear inverse-mapping warp of a 4-channel image held in any numeric array
 * (bytes or floats); see {@link warpSimilarity} for the exact arithmetic.
 */
function warpInverse(srcW: number, srcH: number, src: ArrayLike<number>, inv: Matrix2x3, outW: number, outH: number): RgbaImage {
  const out = new Uint8ClampedArray(outW * outH * 4);
  const [ia, ib, ic, id, ie, iff] = inv;
  const stride = srcW * 4;
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const u = ia * x + ib * y + ic;
      const v = id * x + ie * y + iff;
      const x0 = Math.floor(u);
      const y0 = Math.floor(v);
      const fx = u - x0;
      const fy = v - y0;
      // Skip pixels whose whole 2×2 neighbourhood lies outside (they stay 0).
      if (x0 < -1 || y0 < -1 || x0 >= srcW || y0 >= srcH) continue;
      const inX0 = x0 >= 0;
      const inX1 = x0 + 1 < srcW;
      const inY0 = y0 >= 0;
      const inY1 = y0 + 1 < srcH;
      const base = y0 * stride + x0 * 4;
      const o = (y * outW + x) * 4;
      for (let ch = 0; ch < 4; ch++) {
        const p00 = inY0 && inX0 ? (src[base + ch] as number) : 0;
        const p01 = inY0 && inX1 ? (src[base + 4 + ch] as number) : 0;
        const p10 = inY1 && inX0 ? (src[base + stride + ch] as number) : 0;
        const p11 = inY1 && inX1 ? (src[base + stride + 4 + ch] as number) : 0;
        const val = (1 - fy) * ((1 - fx) * p00 + fx * p01) + fy * ((1 - fx) * p10 + fx * p11);
        out[o + ch] = Math.min(255, Math.max(0, Math.floor(val + 0.5)));
      }
    }
  }
  return { width: outW, height: outH, data: out };
}
