/**
 * Occlusion sensitivity (Zeiler & Fergus 2014) on the aligned crop: a grey patch slides over a grid, each
 * occluded crop goes through the model, and the drop in the explained class's probability at each position
 * says how much the model relied on what the patch hid.
 */
import { ALIGNED_CROP_SIZE } from './align';
import type { Normalization } from './preprocess';

export interface OcclusionGrid {
  /** Side of the square patch in crop pixels. */
  patch: number;
  /** Step between patch positions in crop pixels. */
  stride: number;
  /** Positions per side: floor((size − patch) / stride) + 1. */
  cells: number;
  size: number;
}

/**
 * The default: 28-px patches (about an eye, or the nose tip, at ArcFace scale) every 14 px, 7 × 7 = 49 positions
 * covering the whole 112-px crop — a few seconds on a GPU, tens of seconds for a ResNet-100 on WASM.
 */
export function occlusionGrid(patch = 28, stride = 14, size = ALIGNED_CROP_SIZE): OcclusionGrid {
  if (!(patch > 0 && stride > 0 && patch <= size)) throw new RangeError(`invalid occlusion patch ${patch}, stride ${stride} for size ${size}`);
  return { patch, stride, size, cells: Math.floor((size - patch) / stride) + 1 };
}

/** Top-left corner of position `index` (row-major). */
export function patchOrigin(grid: OcclusionGrid, index: number): { x: number; y: number } {
  return { x: (index % grid.cells) * grid.stride, y: Math.floor(index / grid.cells) * grid.stride };
}

/** The normalised value of mid-grey (sRGB 128) in each channel: what the patch fills with. */
export function greyFill(normalization: Normalization): [number, number, number] {
  return [0, 1, 2].map((c) => (128 - normalization.mean[c]!) / normalization.std[c]!) as [number, number, number];
}

/** Writes a copy of one 3×size×size NCHW crop with the patch at `index` filled, into `out` at `offset`. */
export function occludeInto(out: Float32Array, offset: number, crop: Float32Array, grid: OcclusionGrid, index: number, fill: readonly number[]): void {
  const { size, patch } = grid;
  const { x, y } = patchOrigin(grid, index);
  out.set(crop, offset);
  for (let c = 0; c < 3; c++) {
    for (let row = y; row < y + patch; row++) out.fill(fill[c]!, offset + c * size * size + row * size + x, offset + c * size * size + row * size + x + patch);
  }
}

/**
 * Per-pixel sensitivity: the mean probability drop of all patches covering each pixel, size × size row-major.
 * Positive where hiding the pixel lowered the explained class's probability.
 */
export function sensitivityMap(drops: ArrayLike<number>, grid: OcclusionGrid): Float32Array {
  const { size, cells, patch } = grid;
  if (drops.length !== cells * cells) throw new RangeError(`expected ${cells * cells} drops, got ${drops.length}`);
  const sum = new Float32Array(size * size);
  const count = new Uint16Array(size * size);
  for (let i = 0; i < drops.length; i++) {
    const { x, y } = patchOrigin(grid, i);
    for (let row = y; row < y + patch; row++) {
      for (let col = x; col < x + patch; col++) {
        const k = row * size + col;
        sum[k] = sum[k]! + drops[i]!;
        count[k] = count[k]! + 1;
      }
    }
  }
  for (let i = 0; i < sum.length; i++) sum[i] = count[i] ? sum[i]! / count[i]! : 0;
  return sum;
}

/**
 * RGBA pixels of the heatmap overlay: red where hiding the pixel lowered the class's probability, blue where it
 * raised it, transparent where it changed nothing; opacity grows with |value| / `scale`.
 */
export function heatmapRgba(map: Float32Array, scale: number): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(map.length * 4);
  const s = scale > 0 ? scale : 1;
  for (let i = 0; i < map.length; i++) {
    const v = Math.max(-1, Math.min(1, map[i]! / s));
    out[i * 4] = v >= 0 ? 230 : 30;
    out[i * 4 + 1] = v >= 0 ? 40 : 110;
    out[i * 4 + 2] = v >= 0 ? 30 : 230;
    out[i * 4 + 3] = Math.round(Math.abs(v) * 255);
  }
  return out;
}

/** The largest |value| of a map: the legend's full scale. */
export function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!));
  return m;
}
