// The photo as the screening screen shows it: scaled to at most 1024 px on its longer side (the face boxes are
// drawn over it in photo pixels × scale).
import type { DecodedPhoto } from '../../screening/photo';

export interface Preview {
  canvas: HTMLCanvasElement;
  /** Preview pixels per photo pixel. */
  scale: number;
}

const PREVIEW_MAX_SIDE = 1024;

export function drawPreview(photo: DecodedPhoto): Preview {
  const scale = Math.min(1, PREVIEW_MAX_SIDE / Math.max(photo.width, photo.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(photo.width * scale));
  canvas.height = Math.max(1, Math.round(photo.height * scale));
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(photo.bitmap, 0, 0, canvas.width, canvas.height);
  return { canvas, scale: canvas.width / photo.width };
}
