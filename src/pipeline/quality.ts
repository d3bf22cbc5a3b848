/**
 * Photo quality gate: each check is a pure function of plain inputs (keypoints in photo pixels, the aligned
 * 112×112 crop) with a documented threshold, and reports pass / warn / fail. A failed check blocks the
 * result until the clinician overrides it; a warning is shown with the result.
 *
 * Keypoints are BlazeFace's six, in pixel-centre coordinates of the photo the crop was aligned from (upright):
 * 0 subject's right eye (image left), 1 left eye, 2 nose tip, 3 mouth centre, 4 right ear tragion, 5 left ear tragion.
 */
import { applySimilarity, invertSimilarity, type Matrix2x3 } from './align';
import type { Point, RgbaImage, Size } from './image';

export type QualityStatus = 'pass' | 'warn' | 'fail';

export type QualityCheckId = 'face-count' | 'face-size' | 'roll' | 'yaw' | 'sharpness' | 'brightness' | 'clipping' | 'cut-off' | 'occlusion';

export interface QualityCheck {
  id: QualityCheckId;
  status: QualityStatus;
  /** The measured value, in the unit of the check's limits. */
  value: number;
  /** Which way a two-sided check failed ('dark' or 'bright' for brightness). */
  side?: 'low' | 'high';
}

export interface QualityReport {
  checks: QualityCheck[];
  /** The worst status of all checks. */
  overall: QualityStatus;
}

/**
 * Limits of every check, with why. `warn` and `fail` are the boundaries at which the status changes.
 */
export const QUALITY_LIMITS = Object.freeze({
  /**
   * Inter-ocular distance in pixels of the original photo. The ArcFace crop puts the eyes 35.2 px apart: below
   * that the crop is upsampled (detail is interpolated, not seen); below 24 px (≥ 1.5× upsampling) fine
   * dysmorphic features (philtrum, eyelids, nasal bridge) are gone.
   */
  faceSizePx: { warn: 35, fail: 24 },
  /**
   * Head roll (eye-line tilt) in degrees, after the photo was turned upright. Alignment levels the face from
   * keypoints detected again in a de-rotated view of it (src/pipeline/face-search.ts), so a tilted but frontal head
   * is screened as well as an upright one: roll never fails. Beyond 30° it warns, because a head tilted that far is
   * often also bent or turned (yaw has its own check).
   */
  rollDeg: { warn: 30 },
  /**
   * Head yaw in degrees, estimated from the keypoints. Dysmorphology photographs are frontal; beyond 15° the far
   * half of the face is foreshortened by > 3 % and the nose starts to hide the far cheek; beyond 30° the
   * features the model reads (periorbital fullness, nasal tip, philtrum) are visibly distorted.
   */
  yawDeg: { warn: 15, fail: 30 },
  /**
   * {@link blurSigma}: the total blur of the face at the scale the model sees, as the standard deviation in crop
   * pixels of a Gaussian (a sharp photo reads ≈ 1: optics, demosaicing and resampling). Set by the face-stage sweep
   * (`npm run bench:faces`: the fixture face in 0.3, 4 and 16 MP frames, blurred by σ at crop scale): as shot it
   * reads 1.00–1.10 at every resolution (0.97–1.10 at every exposure ×0.15–×2 and JPEG quality 5–95), σ = 0.5
   * reads 1.17–1.21, σ = 1 1.41–1.52, σ = 1.5 1.80–1.92, σ = 2 2.43–2.53. The limits sit midway: σ ≥ 1 warns,
   * σ ≥ 2 fails, and no photo as shot warns.
   */
  blurPx: { warn: 1.3, fail: 2.1 },
  /**
   * Mean luminance (Rec. 709 luma of the sRGB values, 0–255) over the face region. Well-exposed skin is
   * 90–200; outside 60–215 skin texture and shading are compressed into few grey levels, outside 35–235 most of it is lost.
   */
  brightness: { warnLow: 60, failLow: 35, warnHigh: 215, failHigh: 235 },
  /** Fraction of face-region pixels at 0–5 or 250–255 (crushed shadows or blown highlights). */
  clippedFraction: { warn: 0.05, fail: 0.2 },
  /** Fraction of the crop's face region that lies outside the photo (face cut off by the photo's edge). */
  outsideFraction: { warn: 0.02, fail: 0.15 },
  /**
   * Face detector confidence. BlazeFace scores an unobstructed frontal face above 0.85; hands, toys, a dummy,
   * a mask or hair over the face lower it. A hint, never a failure (the face was found).
   */
  detectionScore: { warn: 0.75 },
});

/**
 * The face region of the aligned 112×112 crop used by the image checks: eyebrows to chin, cheek to cheek,
 * leaving out hair and background, which have their own sharpness and brightness.
 */
const CROP_FACE_REGION = Object.freeze({ x: 24, y: 32, width: 64, height: 72 });

type Region = { x: number; y: number; width: number; height: number };

const worst = (a: QualityStatus, b: QualityStatus): QualityStatus => (a === 'fail' || b === 'fail' ? 'fail' : a === 'warn' || b === 'warn' ? 'warn' : 'pass');

/** Larger is better: fail below `fail`, warn below `warn`. */
const atLeast = (value: number, limits: { warn: number; fail?: number }): QualityStatus =>
  limits.fail !== undefined && value < limits.fail ? 'fail' : value < limits.warn ? 'warn' : 'pass';
/** Smaller is better: fail above `fail`, warn above `warn`. */
const atMost = (value: number, limits: { warn: number; fail: number }): QualityStatus => (value > limits.fail ? 'fail' : value > limits.warn ? 'warn' : 'pass');

// ——— Faces ———

/** One face passes; several faces warn unless the clinician picked one (the largest is screened otherwise). */
export function checkFaceCount(count: number, pickedByUser: boolean): QualityCheck {
  return { id: 'face-count', status: count === 1 || pickedByUser ? 'pass' : count === 0 ? 'fail' : 'warn', value: count };
}

/** Distance between the eye centres, in pixels of the original photo. */
export function interOcularDistance(keypoints: readonly Point[]): number {
  const [r, l] = keypoints as [Point, Point];
  return Math.hypot(l.x - r.x, l.y - r.y);
}

export function checkFaceSize(keypoints: readonly Point[]): QualityCheck {
  const value = interOcularDistance(keypoints);
  return { id: 'face-size', status: atLeast(value, QUALITY_LIMITS.faceSizePx), value };
}

// ——— Pose ———

/** Tilt of the eye line (subject's right eye → left eye) in degrees; positive turns clockwise on screen. */
export function rollDegrees(keypoints: readonly Point[]): number {
  const [r, l] = keypoints as [Point, Point];
  return (Math.atan2(l.y - r.y, l.x - r.x) * 180) / Math.PI;
}

export function checkRoll(keypoints: readonly Point[]): QualityCheck {
  const value = rollDegrees(keypoints);
  return { id: 'roll', status: Math.abs(value) > QUALITY_LIMITS.rollDeg.warn ? 'warn' : 'pass', value };
}

/**
 * A simple head model in units of the inter-ocular distance E (child anthropometry, Farkas): eyes at x = ±E/2 on
 * the eye plane, the nose tip `noseDepth` in front of it, the ear tragions `earHalfWidth` to each side and
 * `earDepth` behind it. Turning the head by ψ about the vertical axis moves the projected nose tip off the eye
 * midpoint by (noseDepth / E)·tan ψ·(projected E), and makes the ears asymmetric by (earDepth / earHalfWidth)·tan ψ.
 */
export const HEAD_MODEL = Object.freeze({ noseDepth: 0.5, earHalfWidth: 1.2, earDepth: 1.4 });

/**
 * Yaw (left–right head turn) in degrees from the 2-D keypoints, after removing roll: the mean of the estimate
 * from the nose tip's offset from the eye midpoint and, when both ear tragions were found, the estimate from
 * their asymmetry about it. Positive when the nose points to the image right.
 */
export function yawDegrees(keypoints: readonly Point[]): number {
  const [r, l, nose, , earR, earL] = keypoints as Point[];
  const roll = Math.atan2(l!.y - r!.y, l!.x - r!.x);
  const mid = { x: (r!.x + l!.x) / 2, y: (r!.y + l!.y) / 2 };
  const iod = Math.hypot(l!.x - r!.x, l!.y - r!.y);
  // Horizontal offset from the eye midpoint in the de-rolled face frame.
  const along = (p: Point) => ((p.x - mid.x) * Math.cos(roll) + (p.y - mid.y) * Math.sin(roll)) / iod;
  const estimates = [Math.atan(along(nose!) / HEAD_MODEL.noseDepth)];
  if (earR && earL) {
    const dR = -along(earR);
    const dL = along(earL);
    if (dR + dL > 0) estimates.push(Math.atan((-(dL - dR) / (dL + dR)) * (HEAD_MODEL.earHalfWidth / HEAD_MODEL.earDepth)));
  }
  return ((estimates.reduce((s, e) => s + e, 0) / estimates.length) * 180) / Math.PI;
}

export function checkYaw(keypoints: readonly Point[]): QualityCheck {
  const value = yawDegrees(keypoints);
  return { id: 'yaw', status: atMost(Math.abs(value), QUALITY_LIMITS.yawDeg), value };
}

// ——— Image ———

/** Rec. 709 luma of each pixel of a region, on the sRGB values (0–255). */
function luma(image: RgbaImage, region: Region = { x: 0, y: 0, width: image.width, height: image.height }): Float32Array {
  const out = new Float32Array(region.width * region.height);
  const d = image.data;
  for (let y = 0; y < region.height; y++) {
    for (let x = 0; x < region.width; x++) {
      const i = ((region.y + y) * image.width + region.x + x) * 4;
      out[y * region.width + x] = 0.2126 * d[i]! + 0.7152 * d[i + 1]! + 0.0722 * d[i + 2]!;
    }
  }
  return out;
}

/** Separable Gaussian blur of a grey image (edges clamped). */
function gaussianBlur(g: Float32Array, width: number, height: number, sigma: number): Float32Array {
  const radius = Math.ceil(3 * sigma);
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const total = kernel.reduce((a, v) => a + v, 0);
  const k = kernel.map((v) => v / total);
  const tmp = new Float32Array(g.length);
  const out = new Float32Array(g.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let i = -radius; i <= radius; i++) acc += k[i + radius]! * g[y * width + Math.min(width - 1, Math.max(0, x + i))]!;
      tmp[y * width + x] = acc;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let i = -radius; i <= radius; i++) acc += k[i + radius]! * tmp[Math.min(height - 1, Math.max(0, y + i)) * width + x]!;
      out[y * width + x] = acc;
    }
  }
  return out;
}

/** Variance of the 4-neighbour Laplacian (0 1 0 / 1 −4 1 / 0 1 0) of a grey image, leaving out `margin` pixels on each side. */
export function laplacianVariance(g: Float32Array, width: number, height: number, margin = 1): number {
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = Math.max(1, margin); y < height - Math.max(1, margin); y++) {
    for (let x = Math.max(1, margin); x < width - Math.max(1, margin); x++) {
      const i = y * width + x;
      const v = g[i - width]! + g[i + width]! + g[i - 1]! + g[i + 1]! - 4 * g[i]!;
      sum += v;
      sumSq += v * v;
      n++;
    }
  }
  if (n === 0) return 0;
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

/** Blur this large or more reads as "no detail at all" (a flat or featureless region). */
export const FEATURELESS_BLUR_PX = 10;

/**
 * How blurred the face is, in crop pixels: the standard deviation σ of the Gaussian blur that explains how fast its
 * fine detail fades when it is blurred further. Natural images have a power spectrum close to 1/f², under which
 * the variance of the Laplacian of an image with total blur σ, blurred again by s, is ∝ 1/(σ² + s²)². So with
 * L₁, L₂ the Laplacian variances after blurring by 1 and by 2 px, u = √(L₂/L₁) = (σ² + 1)/(σ² + 4), and
 * σ = √((4u − 1)/(1 − u)). A ratio of the image with itself: it does not depend on the face's contrast, exposure
 * or texture the way the raw Laplacian variance does (a dark photo's quantisation noise read as sharp; skin with
 * little texture read as blurred). Computed over the crop's face region, with a margin for the blur kernels.
 */
export function blurSigma(image: RgbaImage, region: Region = CROP_FACE_REGION): number {
  const margin = 6; // the radius of the σ = 2 kernel: the region itself is never read through a clamped edge
  const outer = { x: region.x - margin, y: region.y - margin, width: region.width + 2 * margin, height: region.height + 2 * margin };
  if (outer.x < 0 || outer.y < 0 || outer.x + outer.width > image.width || outer.y + outer.height > image.height)
    throw new RangeError('the blur region and its margin must lie inside the image');
  const g = luma(image, outer);
  const l1 = laplacianVariance(gaussianBlur(g, outer.width, outer.height, 1), outer.width, outer.height, margin);
  const l2 = laplacianVariance(gaussianBlur(g, outer.width, outer.height, 2), outer.width, outer.height, margin);
  // Below a hundredth of a grey level² of detail there is nothing to judge.
  if (!(l1 > 1e-2)) return FEATURELESS_BLUR_PX;
  const u = Math.sqrt(l2 / l1);
  if (u >= 1) return FEATURELESS_BLUR_PX;
  return Math.min(FEATURELESS_BLUR_PX, Math.sqrt(Math.max(0, (4 * u - 1) / (1 - u))));
}

/** The 'sharpness' check: the estimated blur ({@link blurSigma}) in crop pixels; larger is worse. */
export function checkSharpness(crop: RgbaImage): QualityCheck {
  const value = blurSigma(crop);
  return { id: 'sharpness', status: atMost(value, QUALITY_LIMITS.blurPx), value };
}

/** Mean luma and the fraction of clipped pixels (≤ 5 or ≥ 250) over a region. */
export function exposure(image: RgbaImage, region: Region = CROP_FACE_REGION): { meanLuma: number; clippedFraction: number } {
  const g = luma(image, region);
  let sum = 0;
  let clipped = 0;
  for (const v of g) {
    sum += v;
    if (v <= 5 || v >= 250) clipped++;
  }
  return { meanLuma: g.length ? sum / g.length : 0, clippedFraction: g.length ? clipped / g.length : 0 };
}

export function checkBrightness(meanLuma: number): QualityCheck {
  const b = QUALITY_LIMITS.brightness;
  const low = meanLuma < b.warnLow;
  const high = meanLuma > b.warnHigh;
  const status: QualityStatus = meanLuma < b.failLow || meanLuma > b.failHigh ? 'fail' : low || high ? 'warn' : 'pass';
  return { id: 'brightness', status, value: meanLuma, ...(low ? { side: 'low' as const } : high ? { side: 'high' as const } : {}) };
}

export function checkClipping(clippedFraction: number): QualityCheck {
  return { id: 'clipping', status: atMost(clippedFraction, QUALITY_LIMITS.clippedFraction), value: clippedFraction };
}

// ——— Occlusion hints ———

/**
 * Fraction of the crop's face region whose source point lies outside the photo: the part of the face the
 * photo cut off (alignment fills it with black). `photoToCrop` is the alignment transform in photo pixels.
 */
export function outsideFraction(photoToCrop: Matrix2x3, photo: Size, region: Region = CROP_FACE_REGION): number {
  const inv = invertSimilarity(photoToCrop);
  let outside = 0;
  for (let y = region.y; y < region.y + region.height; y++) {
    for (let x = region.x; x < region.x + region.width; x++) {
      const p = applySimilarity(inv, { x, y });
      if (p.x < -0.5 || p.y < -0.5 || p.x > photo.width - 0.5 || p.y > photo.height - 0.5) outside++;
    }
  }
  return outside / (region.width * region.height);
}

export function checkCutOff(fraction: number): QualityCheck {
  return { id: 'cut-off', status: atMost(fraction, QUALITY_LIMITS.outsideFraction), value: fraction };
}

/** A low detector score hints that something covers part of the face; it can only warn. */
export function checkOcclusion(detectionScore: number): QualityCheck {
  return { id: 'occlusion', status: atLeast(detectionScore, QUALITY_LIMITS.detectionScore), value: detectionScore };
}

// ——— All together ———

export interface QualityInput {
  faceCount: number;
  pickedByUser: boolean;
  /** The screened face's keypoints in photo pixels. */
  keypoints: readonly Point[];
  detectionScore: number;
  photo: Size;
  /** The aligned 112×112 crop and the photo → crop transform that made it. */
  crop: RgbaImage;
  cropTransform: Matrix2x3;
}

function combineChecks(checks: QualityCheck[]): QualityReport {
  return { checks, overall: checks.reduce<QualityStatus>((s, c) => worst(s, c.status), 'pass') };
}

export function assessQuality(input: QualityInput): QualityReport {
  const { meanLuma, clippedFraction } = exposure(input.crop);
  return combineChecks([
    checkFaceCount(input.faceCount, input.pickedByUser),
    checkFaceSize(input.keypoints),
    checkRoll(input.keypoints),
    checkYaw(input.keypoints),
    checkSharpness(input.crop),
    checkBrightness(meanLuma),
    checkClipping(clippedFraction),
    checkCutOff(outsideFraction(input.cropTransform, input.photo)),
    checkOcclusion(input.detectionScore),
  ]);
}
