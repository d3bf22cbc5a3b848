// Runs in headless Chromium: the app's own decode → detect → align → quality steps, on one photo at a time.
// Nothing here re-implements them: a crop made here is the crop the app screens.
import { toBase64 } from '../../../src/encoding/base64';
import { assessQuality } from '../../../src/pipeline/quality';
import { FacesInPhoto } from '../../../src/screening/face-detector';
import { decodePhoto } from '../../../src/screening/photo';
import { alignFromPhoto, findFaces } from '../../../src/screening/screen-photo';
import { ScreeningError } from '../../../src/screening/errors';

export interface AlignedPhotoRow {
  status: 'ok' | string;
  detail?: string;
  width?: number;
  height?: number;
  faces?: number;
  score?: number;
  box?: [number, number, number, number];
  /** Six BlazeFace keypoints in pixel-centre coordinates of the photo. */
  keypoints?: [number, number][];
  scale?: number;
  rollDegrees?: number;
  prefilterFactor?: number;
  quality?: { overall: string; checks: { id: string; status: string; value: number }[] };
  /** 112×112 PNG, base64. */
  cropPng?: string;
}

let detector: Promise<FacesInPhoto> | null = null;

async function alignPhoto(url: string, name: string): Promise<AlignedPhotoRow> {
  detector ??= FacesInPhoto.create();
  const blob = await (await fetch(url)).blob();
  let photo;
  try {
    photo = await decodePhoto(Object.assign(blob, { name }));
  } catch (e) {
    if (e instanceof ScreeningError) return { status: e.code, detail: e.message };
    throw e;
  }
  try {
    const found = findFaces(photo, await detector);
    const face = found.faces[0]!; // the largest, as the app chooses by default
    const aligned = alignFromPhoto(photo, face);
    const quality = assessQuality({
      faceCount: found.faces.length,
      pickedByUser: false,
      keypoints: face.keypoints,
      detectionScore: face.score,
      photo: { width: photo.width, height: photo.height },
      crop: aligned.crop,
      cropTransform: aligned.transform,
    });
    const canvas = new OffscreenCanvas(aligned.crop.width, aligned.crop.height);
    canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(aligned.crop.data), aligned.crop.width, aligned.crop.height), 0, 0);
    const png = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
    return {
      status: 'ok',
      width: photo.width,
      height: photo.height,
      faces: found.faces.length,
      score: face.score,
      box: [face.box.x, face.box.y, face.box.width, face.box.height],
      keypoints: face.keypoints.map((p) => [p.x, p.y]),
      scale: aligned.scale,
      rollDegrees: aligned.rollDegrees,
      prefilterFactor: aligned.prefilterFactor,
      quality: { overall: quality.overall, checks: quality.checks.map((c) => ({ id: c.id, status: c.status, value: c.value })) },
      cropPng: toBase64(png),
    };
  } catch (e) {
    if (e instanceof ScreeningError) return { status: e.code, detail: e.message };
    throw e;
  } finally {
    photo.bitmap.close();
  }
}

(globalThis as unknown as { faciesAligner: unknown }).faciesAligner = { alignPhoto };
document.body.dataset.ready = 'true';
