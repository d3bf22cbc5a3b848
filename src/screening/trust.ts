// The steps around inference that make a result trustworthy: the photo quality gate before it, flip TTA in it.
import type { AlignedFace } from '../pipeline/align';
import { assessQuality, type QualityReport } from '../pipeline/quality';
import { meanProbabilities, splitBatch, withMirror } from '../pipeline/tta';
import type { DetectedFace } from './face-detector';
import type { DecodedPhoto } from './photo';

export function photoQuality(photo: Pick<DecodedPhoto, 'width' | 'height'>, faces: readonly DetectedFace[], index: number, pickedByUser: boolean, aligned: AlignedFace): QualityReport {
  const face = faces[index]!;
  return assessQuality({
    faceCount: faces.length,
    pickedByUser,
    keypoints: face.keypoints,
    detectionScore: face.score,
    photo: { width: photo.width, height: photo.height },
    crop: aligned.crop,
    cropTransform: aligned.transform,
  });
}

/** The model input for one preprocessed crop: a batch of the crop and its mirror with flip TTA, else the crop. */
export function ttaBatch(crop: Float32Array, flip: boolean): { input: Float32Array; batch: number } {
  return flip ? { input: withMirror(crop), batch: 2 } : { input: crop, batch: 1 };
}

/** Per-pass probabilities and their mean, the reported probabilities. */
export function ttaOutcome(probabilities: Float32Array, batch: number): { passes: number[][]; probabilities: number[] } {
  const passes = splitBatch(probabilities, batch);
  return { passes, probabilities: meanProbabilities(passes) };
}
