// Reading a decoded photo's pixels: 1:1 copies through a 2D canvas (no resampling, so every engine returns the same
// bytes), in sRGB.
import type { RgbaImage } from '../pipeline/image';

/** A rectangle of the photo's pixels. */
export function readPixels(bitmap: ImageBitmap, x: number, y: number, width: number, height: number): RgbaImage {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, x, y, width, height, 0, 0, width, height);
  return { width, height, data: ctx.getImageData(0, 0, width, height, { colorSpace: 'srgb' }).data };
}
