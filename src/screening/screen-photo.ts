// The screening pipeline on the UI thread: decode → detect → align → preprocess; inference runs in the worker.
import { alignFace, applySimilarity, estimateSimilarity, invertSimilarity, prefilterFactor, AlignmentError, ARCFACE_TEMPLATE_112_BLAZEFACE, ALIGNED_CROP_SIZE, type AlignedFace } from '../pipeline/align';
import type { RgbaImage } from '../pipeline/image';
import { detectionScale, mapBoxToOriginal, normalizedToPixel } from '../pipeline/preprocess';
import { ScreeningError } from './errors';
import type { DecodedPhoto } from './photo';
import type { DetectedFace, FacesInPhoto } from './face-detector';

export interface FacesFound {
  /** The photo scaled for detection and display (longest side ≤ the detection limit). */
  preview: HTMLCanvasElement;
  /** preview pixels per photo pixel. */
  previewScale: number;
  /** Faces in photo pixel coordinates, largest first. */
  faces: DetectedFace[];
  detectMs: number;
}

export function drawPreview(photo: DecodedPhoto): { canvas: HTMLCanvasElement; scale: number } {
  const { width, height } = detectionScale(photo.width, photo.height);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(photo.bitmap, 0, 0, canvas.width, canvas.height);
  return { canvas, scale: canvas.width / photo.width };
}

export function findFaces(photo: DecodedPhoto, detector: FacesInPhoto): FacesFound {
  const { canvas, scale } = drawPreview(photo);
  const t0 = performance.now();
  const found = detector.detect(canvas);
  const detectMs = performance.now() - t0;
  const original = { width: photo.width, height: photo.height };
  // Keypoints to pixel-centre coordinates of the full-resolution photo, which alignment reads.
  const faces = found
    .map((f) => ({
      score: f.score,
      box: mapBoxToOriginal(f.box, canvas, original),
      keypoints: f.keypoints.map((k) => normalizedToPixel(k, original)),
    }))
    .sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
  if (faces.length === 0) throw new ScreeningError('no-face');
  return { preview: canvas, previewScale: scale, faces, detectMs };
}

/**
 * Reads only the part of the photo the crop can sample, with its origin on the prefilter grid,
 * so the result is identical to aligning the whole photo without holding 48 MB of pixels for a 12 MP photo.
 */
export function alignFromPhoto(photo: DecodedPhoto, face: DetectedFace): AlignedFace {
  try {
    const { matrix, scale } = estimateSimilarity(face.keypoints.slice(0, 4), ARCFACE_TEMPLATE_112_BLAZEFACE);
    const k = prefilterFactor(scale);
    const inv = invertSimilarity(matrix);
    const corners = [
      [0, 0],
      [ALIGNED_CROP_SIZE, 0],
      [0, ALIGNED_CROP_SIZE],
      [ALIGNED_CROP_SIZE, ALIGNED_CROP_SIZE],
    ].map(([x, y]) => applySimilarity(inv, { x: x!, y: y! }));
    const pad = 2 * k + 2;
    const x0 = Math.max(0, Math.floor((Math.min(...corners.map((c) => c.x)) - pad) / k) * k);
    const y0 = Math.max(0, Math.floor((Math.min(...corners.map((c) => c.y)) - pad) / k) * k);
    const x1 = Math.min(photo.width, Math.ceil(Math.max(...corners.map((c) => c.x)) + pad));
    const y1 = Math.min(photo.height, Math.ceil(Math.max(...corners.map((c) => c.y)) + pad));
    if (x1 <= x0 || y1 <= y0) throw new ScreeningError('face-too-close-to-edge');
    const region = readRegion(photo.bitmap, x0, y0, x1 - x0, y1 - y0);
    const shifted = face.keypoints.map((p) => ({ x: p.x - x0, y: p.y - y0 }));
    const aligned = alignFace(region, shifted);
    // Report the transform in whole-photo coordinates.
    const m = aligned.transform;
    return { ...aligned, transform: [m[0], m[1], m[2] - m[0] * x0 - m[1] * y0, m[3], m[4], m[5] - m[3] * x0 - m[4] * y0] };
  } catch (e) {
    if (e instanceof AlignmentError) throw new ScreeningError('alignment-failed', e.message);
    throw e;
  }
}

function readRegion(bitmap: ImageBitmap, x: number, y: number, width: number, height: number): RgbaImage {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, x, y, width, height, 0, 0, width, height);
  const img = ctx.getImageData(0, 0, width, height, { colorSpace: 'srgb' });
  return { width, height, data: img.data };
}

export function cropToCanvas(crop: RgbaImage): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = crop.width;
  canvas.height = crop.height;
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(crop.data), crop.width, crop.height), 0, 0);
  return canvas;
}
