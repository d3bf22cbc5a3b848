/**
 * Preprocessing for the network, on plain arrays: aligned RGBA crop → normalised
 * NCHW float32 tensor data. Test-time augmentation (the mirror, the grey copy and
 * the batch they make) is in tta.ts.
 */

import type { RgbaImage } from './image';
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
 * To fill one image of a batch, pass the batch buffer and `offset = b · 3 · H · W`.
 *
 * @param out Destination; a new `Float32Array(3·H·W)` when omitted.
 * @param offset Element (not byte) offset into `out`.
 * @returns `out`.
 * @throws RangeError when mean/std do not have 3 finite entries, a std is 0, or
 *   `out` is too short for `offset + 3·H·W`.
 */
export function toNchwFloat32(crop: RgbaImage, normalization: Normalization, out?: Float32Array, offset = 0): Float32Array {
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
    throw new RangeError(`cannot write ${3 * plane} values at offset ${offset} into an array of ${target.length}`);
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
