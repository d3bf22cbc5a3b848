/**
 * Preprocessing around the network and the face detector, on plain arrays:
 * aligned crop → normalised NCHW float32 tensor data, horizontal flip (for flip
 * test-time augmentation), and the detection downscale with its way back to
 * original photo coordinates.
 */

import type { Point, RgbaImage, Size } from './image';
import { assertRgbaImage } from './image';

/** Per-channel normalisation `(x − mean[c]) / std[c]`, channels in RGB order. */
export interface Normalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** InsightFace ArcFace input normalisation: `(x − 127.5) / 127.5`, i.e. [0, 255] → [−1, 1]. */
export const ARCFACE_NORMALIZATION: Normalization = Object.freeze({
  mean: Object.freeze([127.5, 127.5, 127.5]),
  std: Object.freeze([127.5, 127.5, 127.5]),
});

/**
 * Writes an RGBA crop as normalised RGB planes in NCHW order (alpha is ignored):
 * `out[offset + c·H·W + y·W + x] = (crop[y][x][c] − mean[c]) / std[c]`.
 *
 * To fill one image of a batch (e.g. original and flipped crop for flip TTA),
 * pass the batch buffer and `offset = b · 3 · H · W`.
 *
 * @param out Destination; a new `Float32Array(3·H·W)` when omitted.
 * @param offset Element (not byte) offset into `out`.
 * @returns `out`.
 * @throws RangeError when mean/std do not have 3 finite entries, a std is 0, or
 *   `out` is too short for `offset + 3·H·W`.
 */
export function toNchwFloat32(
  crop: RgbaImage,
  normalization: Normalization,
  out?: Float32Array,
  offset = 0,
): Float32Array {
  assertRgbaImage(crop);
  const { mean, std } = normalization;
  if (mean.length !== 3 || std.length !== 3) {
    throw new RangeError('normalization needs 3 means and 3 stds (R, G, B)');
  }
  if (!mean.every(Number.isFinite) || !std.every((s) => Number.isFinite(s) && s !== 0)) {
    throw new RangeError('normalization means must be finite and stds finite and non-zero');
  }
  const plane = crop.width * crop.height;
  const target = out ?? new Float32Array(3 * plane);
  if (!Number.isInteger(offset) || offset < 0 || offset + 3 * plane > target.length) {
    throw new RangeError(
      `cannot write ${3 * plane} values at offset ${offset} into an array of ${target.length}`,
    );
  }
  const data = crop.data;
  for (let c = 0; c < 3; c++) {
    const m = mean[c] as number;
    const s = std[c] as number;
    const base = offset + c * plane;
    for (let i = 0; i < plane; i++) {
      target[base + i] = ((data[i * 4 + c] as number) - m) / s;
    }
  }
  return target;
}

/** Mirror image (left ↔ right). Applying it twice gives the original pixels. */
export function flipHorizontal(img: RgbaImage): RgbaImage {
  assertRgbaImage(img);
  const { width, height } = img;
  const src = img.data;
  const data = new Uint8ClampedArray(src.length);
  for (let y = 0; y < height; y++) {
    const row = y * width * 4;
    for (let x = 0; x < width; x++) {
      const s = row + x * 4;
      const d = row + (width - 1 - x) * 4;
      data[d] = src[s] as number;
      data[d + 1] = src[s + 1] as number;
      data[d + 2] = src[s + 2] as number;
      data[d + 3] = src[s + 3] as number;
    }
  }
  return { width, height, data };
}

/**
 * Longest side, in pixels, of the image handed to the face detector.
 *
 * BlazeFace (short range) sees every image at 128×128, so detection resolution
 * beyond a few hundred pixels is never used; what the downscale must do is keep
 * the face (it only shrinks the whole frame uniformly, so a face that fills 1/8
 * of the frame is 128 px wide at 1024 and 16 px at the model input either way)
 * and bound the cost. 1024 is 8× the detector input, so our downscale is never
 * the limit on keypoint precision (BlazeFace's keypoints are good to roughly a
 * pixel of its 128 grid = 8 px at 1024), and it caps the detector frame at
 * 1024×768×4 = 3 MiB whatever the camera (a 12 MP photo is 48 MiB as RGBA), which
 * keeps the copy to the worker and into WASM cheap on a tablet. It also leaves
 * the detector's own resize to 128 a shrink of at most 8×. Alignment always
 * reads the full-resolution photo, so the crop does not lose detail.
 */
export const DETECTION_MAX_SIDE = 1024;

/** How to shrink a photo for detection. */
export interface DetectionScale {
  /** Factor applied to both sides (≤ 1; 1 = use the photo as is). */
  readonly scale: number;
  /** Size of the detection image: each side `max(1, round(side · scale))`. */
  readonly width: number;
  readonly height: number;
}

/**
 * The downscale for face detection: `scale = min(1, maxSide / max(width, height))`,
 * never upscaling. Map detections back with {@link mapDetectionToOriginal} using
 * the returned width/height (not `scale`, which the rounding makes approximate).
 */
export function detectionScale(
  width: number,
  height: number,
  maxSide: number = DETECTION_MAX_SIDE,
): DetectionScale {
  if (!(width > 0) || !(height > 0) || !Number.isFinite(width) || !Number.isFinite(height)) {
    throw new RangeError(`invalid image size ${width}×${height}`);
  }
  if (!(maxSide >= 1) || !Number.isFinite(maxSide)) {
    throw new RangeError(`invalid maxSide ${maxSide}`);
  }
  const scale = Math.min(1, maxSide / Math.max(width, height));
  if (scale === 1) return { scale, width, height };
  return {
    scale,
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}

/**
 * An axis-aligned box in pixels with edge coordinates: it covers [x, x + width) ×
 * [y, y + height), where 0 is the left/top edge of the image (MediaPipe's
 * `originX`, `originY`, `width`, `height`).
 */
export interface PixelBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** The parts of a face detection that live in image coordinates. */
export interface DetectionGeometry {
  readonly box: PixelBox;
  /** Keypoints in pixel-centre coordinates (pixel (i, j) centred at (i, j)). */
  readonly keypoints: readonly Point[];
}

/**
 * Converts a MediaPipe normalised keypoint (x, y in [0, 1] of the image width and
 * height, measured from the image's left/top **edge**) to pixel-centre
 * coordinates in an image of `size`: `(x·W − 0.5, y·H − 0.5)`.
 *
 * Normalised coordinates do not depend on the image resolution, so keypoints
 * detected on the downscaled image can be converted with the original photo's
 * size directly; this equals `normalizedToPixel` on the detection image followed
 * by {@link mapPointToOriginal}.
 */
export function normalizedToPixel(p: Point, size: Size): Point {
  return { x: p.x * size.width - 0.5, y: p.y * size.height - 0.5 };
}

/**
 * Maps a pixel-centre point from the detection image (`scaled`) to the original
 * photo: `x_orig = (x + 0.5) · W/w − 0.5` (same for y). Edges map to edges, so a
 * point on the centre of the image stays there.
 */
export function mapPointToOriginal(p: Point, scaled: Size, original: Size): Point {
  const sx = original.width / scaled.width;
  const sy = original.height / scaled.height;
  return { x: (p.x + 0.5) * sx - 0.5, y: (p.y + 0.5) * sy - 0.5 };
}

/** Maps an edge-coordinate box from the detection image to the original photo. */
export function mapBoxToOriginal(box: PixelBox, scaled: Size, original: Size): PixelBox {
  const sx = original.width / scaled.width;
  const sy = original.height / scaled.height;
  return { x: box.x * sx, y: box.y * sy, width: box.width * sx, height: box.height * sy };
}

/**
 * Maps a detection (box + pixel-centre keypoints) found in the downscaled image
 * back to the original photo. Other fields (score, labels) are kept as they are.
 */
export function mapDetectionToOriginal<T extends DetectionGeometry>(
  detection: T,
  scaled: Size,
  original: Size,
): T {
  return {
    ...detection,
    box: mapBoxToOriginal(detection.box, scaled, original),
    keypoints: detection.keypoints.map((p) => mapPointToOriginal(p, scaled, original)),
  };
}
