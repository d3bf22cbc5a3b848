/**
 * Test-time augmentation (TTA) on the normalised NCHW crop: the passes of the mode (the manifest's inference.tta,
 * else the flip setting: none = [crop], flip = [crop, mirror], flip-grey = [crop, mirror, grey, grey mirror]) run
 * as one batch, and the reported probabilities are their mean. InsightFace trains with random horizontal flips,
 * so the mirror is an input the model was trained on; averaging removes the part of the output that depends on
 * which side of the face is which.
 */

import type { TtaMode } from '../model/manifest';
import { ALIGNED_CROP_SIZE } from './align';

export type { TtaMode };

const PLANE = ALIGNED_CROP_SIZE * ALIGNED_CROP_SIZE;

/** Mirrors each row of every channel plane of an NCHW float32 batch (left ↔ right). */
export function mirrorNchw(input: Float32Array, width = ALIGNED_CROP_SIZE, height = ALIGNED_CROP_SIZE): Float32Array {
  if (input.length % (width * height) !== 0) throw new RangeError(`input length ${input.length} is not a whole number of ${width}×${height} planes`);
  const out = new Float32Array(input.length);
  for (let row = 0; row < input.length; row += width) {
    for (let x = 0; x < width; x++) out[row + x] = input[row + width - 1 - x]!;
  }
  return out;
}

/** A batch of two: the crop (index 0) and its mirror (index 1). */
export function withMirror(crop: Float32Array): Float32Array {
  if (crop.length !== 3 * PLANE) throw new RangeError(`expected one 3×${ALIGNED_CROP_SIZE}×${ALIGNED_CROP_SIZE} crop, got ${crop.length} values`);
  const out = new Float32Array(2 * crop.length);
  out.set(crop, 0);
  out.set(mirrorNchw(crop), crop.length);
  return out;
}

/** Splits batch outputs (batch × classes, row-major) into one array per item. */
export function splitBatch(probabilities: ArrayLike<number>, batch: number): number[][] {
  const classes = probabilities.length / batch;
  if (!Number.isInteger(classes) || classes < 1) throw new RangeError(`${probabilities.length} outputs do not split into ${batch} items`);
  return Array.from({ length: batch }, (_, b) => Array.from({ length: classes }, (_, c) => probabilities[b * classes + c]!));
}

/** Element-wise mean of equally long probability vectors. */
export function meanProbabilities(passes: readonly (readonly number[])[]): number[] {
  if (passes.length === 0) throw new RangeError('no passes to average');
  const n = passes[0]!.length;
  return Array.from({ length: n }, (_, c) => passes.reduce((s, p) => s + p[c]!, 0) / passes.length);
}

/** Test-time augmentation modes (the manifest's inference.tta): how many passes each one runs. */
export const TTA_PASSES: Record<TtaMode, number> = { none: 1, flip: 2, 'flip-grey': 4 };

/**
 * The crop in grey (ITU-R BT.601 luma in all three channels), as GestaltMatcher-Arc's grey TTA: the colour of a
 * clinic photo (white balance, lighting) then cannot decide the result on its own.
 */
export function greyscale<T extends { width: number; height: number; data: Uint8ClampedArray }>(image: T): T {
  const data = new Uint8ClampedArray(image.data.length);
  const src = image.data;
  for (let i = 0; i < src.length; i += 4) {
    const y = Math.round(0.299 * src[i]! + 0.587 * src[i + 1]! + 0.114 * src[i + 2]!);
    data[i] = data[i + 1] = data[i + 2] = y;
    data[i + 3] = src[i + 3]!;
  }
  return { ...image, data };
}

/**
 * The batch for one crop: none → [crop]; flip → [crop, mirror]; flip-grey → [crop, mirror, grey, grey mirror].
 * `colour` and `grey` are the crop's NCHW planes in colour and in grey.
 */
export function ttaBatch(mode: TtaMode, colour: Float32Array, grey?: Float32Array): Float32Array {
  if (mode === 'none') return colour;
  if (mode === 'flip') return withMirror(colour);
  if (!grey) throw new RangeError('flip-grey needs the grey crop');
  const out = new Float32Array(4 * colour.length);
  out.set(withMirror(colour), 0);
  out.set(withMirror(grey), 2 * colour.length);
  return out;
}
