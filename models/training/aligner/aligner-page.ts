// Runs in headless Chromium: the app's screening pipeline (decode → find faces → align → quality), on one photo at a
// time. Nothing here re-implements it: a crop made here is the crop the app screens.
import { toBase64 } from '../../../src/encoding/base64';
import { ScreeningError } from '../../../src/screening/errors';
import { FaceFinder } from '../../../src/screening/face-finder';
import { analyseFile, releasePhoto } from '../../../src/screening/pipeline';

export interface AlignedPhotoRow {
  status: 'ok' | string;
  detail?: string;
  /** Of the upright photo (after `turn`). */
  width?: number;
  height?: number;
  /** The clockwise quarter turn that made the photo upright (its pixels were stored sideways), 0 when none. */
  turn?: number;
  faces?: number;
  score?: number;
  box?: [number, number, number, number];
  /** Six BlazeFace keypoints in pixel-centre coordinates of the upright photo. */
  keypoints?: [number, number][];
  scale?: number;
  rollDegrees?: number;
  prefilterFactor?: number;
  quality?: { overall: string; checks: { id: string; status: string; value: number }[] };
  /** 112×112 PNG, base64. */
  cropPng?: string;
}

let finder: Promise<FaceFinder> | null = null;

async function alignPhoto(url: string, name: string): Promise<AlignedPhotoRow> {
  finder ??= FaceFinder.create();
  const blob = await (await fetch(url)).blob();
  let analysis;
  try {
    // The first-ranked face, as the app screens by default.
    analysis = await analyseFile(Object.assign(blob, { name }), await finder);
  } catch (e) {
    if (e instanceof ScreeningError) return { status: e.code, detail: e.message };
    throw e;
  }
  releasePhoto(analysis.photo);
  const { aligned, quality, photo, turn } = analysis;
  const face = analysis.faces[analysis.chosenFace]!;
  const canvas = new OffscreenCanvas(aligned.crop.width, aligned.crop.height);
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(aligned.crop.data), aligned.crop.width, aligned.crop.height), 0, 0);
  const png = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
  return {
    status: 'ok',
    width: photo.width,
    height: photo.height,
    turn,
    faces: analysis.faces.length,
    score: face.score,
    box: [face.box.x, face.box.y, face.box.width, face.box.height],
    keypoints: face.keypoints.map((p) => [p.x, p.y]),
    scale: aligned.scale,
    rollDegrees: aligned.rollDegrees,
    prefilterFactor: aligned.prefilterFactor,
    quality: { overall: quality.overall, checks: quality.checks.map((c) => ({ id: c.id, status: c.status, value: c.value })) },
    cropPng: toBase64(png),
  };
}

(globalThis as unknown as { faciesAligner: unknown }).faciesAligner = { alignPhoto };
document.body.dataset.ready = 'true';
