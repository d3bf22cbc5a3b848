// The screening pipeline: the only place that turns a photo into a screening. decode → find faces → choose the
// face → align → quality → batch (TTA) → classify, on plain inputs and outputs (the crop is an RgbaImage). The
// screening screen, the reader study, the benchmark and the training kit's batch aligner all call it; the
// classifier is passed in (the inference worker in the app).
import type { ModelManifest } from '../model/manifest';
import { planAlignment, alignWithPlan, AlignmentError, type AlignedFace } from '../pipeline/align';
import { turnFace, turnPhoto, type DetectedFace, type QuarterTurn } from '../pipeline/face-search';
import type { RgbaImage } from '../pipeline/image';
import { toNchwFloat32, type Normalization } from '../pipeline/preprocess';
import { assessQuality, type QualityReport } from '../pipeline/quality';
import { TTA_PASSES, type TtaMode, greyscale, meanProbabilities, splitBatch, ttaBatch } from '../pipeline/tta';
import { ScreeningError } from './errors';
import type { FaceFinder } from './face-finder';
import { searchFaces, type FaceSearch, type FaceSearchOptions } from './find-faces';
import { decodePhoto, type DecodedPhoto } from './photo';
import { readPixels } from './pixels';

/** A photo with its faces found, one of them aligned and judged: everything a screening needs but the model. */
export interface PhotoAnalysis {
  /** The photo upright (turned by `turn` when its pixels were stored sideways); the caller closes its bitmap ({@link releasePhoto}). */
  photo: DecodedPhoto;
  turn: QuarterTurn;
  /** Faces in the upright photo's coordinates, in the order they are offered (the first is screened unless one is picked). */
  faces: DetectedFace[];
  chosenFace: number;
  /** True when the clinician tapped a face; false when the first-ranked face was used. */
  pickedByUser: boolean;
  aligned: AlignedFace;
  quality: QualityReport;
  search: FaceSearch['passes'];
  timings: { decodeMs: number; detectMs: number; alignMs: number };
}

export interface AnalyseOptions extends FaceSearchOptions {
  /** Reused when the photo was decoded already. */
  decodeMs?: number;
}

/** Decodes a photo file (EXIF orientation, size limits): see photo.ts. */
export async function decode(file: Blob & { name?: string }): Promise<{ photo: DecodedPhoto; decodeMs: number }> {
  const t0 = performance.now();
  const photo = await decodePhoto(file);
  return { photo, decodeMs: performance.now() - t0 };
}

/**
 * Finds the faces of a decoded photo, turns the photo upright when its face lies on its side, and aligns and
 * judges the first-ranked face. Takes ownership of `photo`: on failure its bitmap is closed. Throws
 * ScreeningError('no-face') when the photo shows no face.
 */
export async function analysePhoto(photo: DecodedPhoto, finder: FaceFinder, options: AnalyseOptions = {}): Promise<PhotoAnalysis> {
  let upright = photo;
  try {
    const found = await searchFaces(photo.bitmap, finder, options);
    if (found.faces.length === 0) throw new ScreeningError('no-face');
    let faces = found.faces;
    if (found.turn !== 0) {
      upright = await turned(photo, found.turn);
      faces = faces.map((f) => turnFace(f, photo, found.turn));
    }
    const analysis = chooseFace(
      { photo: upright, turn: found.turn, faces, search: found.passes, timings: { decodeMs: options.decodeMs ?? 0, detectMs: found.detectMs, alignMs: 0 } },
      0,
      false,
    );
    return analysis;
  } catch (e) {
    releasePhoto(upright);
    if (upright !== photo) releasePhoto(photo);
    throw e;
  }
}

/** Aligns and judges face `index` of an analysed photo (the clinician tapped it, or it is the first-ranked). */
export function chooseFace(
  analysis: Pick<PhotoAnalysis, 'photo' | 'turn' | 'faces' | 'search' | 'timings'>,
  index: number,
  pickedByUser: boolean,
): PhotoAnalysis {
  const t0 = performance.now();
  const face = analysis.faces[index];
  if (!face) throw new RangeError(`no face ${index} in this photo`);
  const aligned = alignFromPhoto(analysis.photo, face);
  const quality = assessQuality({
    faceCount: analysis.faces.length,
    pickedByUser,
    keypoints: face.keypoints,
    detectionScore: face.score,
    photo: { width: analysis.photo.width, height: analysis.photo.height },
    crop: aligned.crop,
    cropTransform: aligned.transform,
  });
  return { ...analysis, chosenFace: index, pickedByUser, aligned, quality, timings: { ...analysis.timings, alignMs: performance.now() - t0 } };
}

/** Decode and analyse in one step (the reader study, the benchmark, the batch aligner). */
export async function analyseFile(file: Blob & { name?: string }, finder: FaceFinder, options: FaceSearchOptions = {}): Promise<PhotoAnalysis> {
  const { photo, decodeMs } = await decode(file);
  return analysePhoto(photo, finder, { ...options, decodeMs });
}

/** Frees the decoded pixels (the analysis keeps its crop and numbers). */
export function releasePhoto(photo: DecodedPhoto): void {
  photo.bitmap.close();
}

async function turned(photo: DecodedPhoto, turn: QuarterTurn): Promise<DecodedPhoto> {
  const view = turnPhoto(photo, turn);
  const canvas = new OffscreenCanvas(view.width, view.height);
  const ctx = canvas.getContext('2d')!;
  const m = view.matrix;
  ctx.setTransform(m[0], m[3], m[1], m[4], m[2], m[5]);
  ctx.drawImage(photo.bitmap, 0, 0);
  const bitmap = canvas.transferToImageBitmap();
  releasePhoto(photo);
  return { ...photo, bitmap, width: bitmap.width, height: bitmap.height };
}

/**
 * The aligned crop of one face, reading only the part of the photo the crop samples (the alignment plan's source
 * region), so the result is identical to aligning the whole photo without holding 48 MB of pixels for 12 MP.
 */
function alignFromPhoto(photo: DecodedPhoto, face: DetectedFace): AlignedFace {
  try {
    const plan = planAlignment(face.keypoints);
    const x0 = Math.max(0, plan.source.x0);
    const y0 = Math.max(0, plan.source.y0);
    const x1 = Math.min(photo.width, plan.source.x1);
    const y1 = Math.min(photo.height, plan.source.y1);
    if (x1 <= x0 || y1 <= y0) throw new ScreeningError('face-too-close-to-edge');
    return alignWithPlan(plan, readPixels(photo.bitmap, x0, y0, x1 - x0, y1 - y0), { x: x0, y: y0 });
  } catch (e) {
    if (e instanceof AlignmentError) throw new ScreeningError('alignment-failed', e.message);
    throw e;
  }
}

// ——— The model ———

/** Runs a batch of preprocessed crops (NCHW float32, `batch` × the manifest's input) and returns the probabilities. */
/** `embeddings` (batch × dimension) when the model has an embedding output (the manifest's inference.embedding). */
export type Classifier = (input: Float32Array, batch: number) => Promise<{ probabilities: Float32Array; embeddings?: Float32Array; inferenceMs: number }>;

export interface ClassifyOptions {
  normalization: Normalization;
  /** Test-time augmentation: the passes run as one batch, probabilities averaged (src/pipeline/tta.ts). */
  tta: TtaMode;
}

/**
 * The TTA to run: the one the model's figures were obtained with when its manifest says (the published figures are
 * those of that TTA), else the clinician's flip setting.
 */
export function ttaFor(manifest: Pick<ModelManifest, 'inference'>, flipSetting: boolean): TtaMode {
  return manifest.inference?.tta ?? (flipSetting ? 'flip' : 'none');
}

export interface Classification {
  /** The reported probabilities: the mean of the TTA passes (or the single pass). */
  probabilities: number[];
  tta: { mode: TtaMode; passes: number[][] };
  /** The photo's embedding for mean-embedding fusion: the mean of its passes' embeddings, L2-normalised. */
  embedding?: number[];
  inferenceMs: number;
}

/** The model input for one crop: the batch of its TTA passes. */
export function modelInput(crop: RgbaImage, { normalization, tta }: ClassifyOptions): { input: Float32Array; batch: number } {
  const colour = toNchwFloat32(crop, normalization);
  const grey = tta === 'flip-grey' ? toNchwFloat32(greyscale(crop), normalization) : undefined;
  return { input: ttaBatch(tta, colour, grey), batch: TTA_PASSES[tta] };
}

export async function classifyCrop(crop: RgbaImage, classifier: Classifier, options: ClassifyOptions): Promise<Classification> {
  const { input, batch } = modelInput(crop, options);
  let out;
  try {
    out = await classifier(input, batch);
  } catch (e) {
    throw new ScreeningError('inference-failed', (e as Error).message);
  }
  const passes = splitBatch(out.probabilities, batch);
  const embedding = out.embeddings && meanEmbedding(out.embeddings, batch);
  return { probabilities: meanProbabilities(passes), tta: { mode: options.tta, passes }, ...(embedding && { embedding }), inferenceMs: out.inferenceMs };
}

/** The mean of a batch's L2-normalised embeddings, normalised again (one embedding per photo, as the kit fuses them). */
export function meanEmbedding(embeddings: Float32Array, batch: number): number[] {
  const d = embeddings.length / batch;
  const mean = new Array<number>(d).fill(0);
  for (let b = 0; b < batch; b++) {
    const row = embeddings.subarray(b * d, (b + 1) * d);
    const norm = Math.hypot(...row) || 1;
    for (let i = 0; i < d; i++) mean[i]! += row[i]! / norm;
  }
  const norm = Math.hypot(...mean) || 1;
  return mean.map((v) => v / norm);
}

/** Photo file → probabilities on the first-ranked face, with no quality gate (the reader study's model answer). */
export async function screenFile(
  file: Blob & { name?: string },
  finder: FaceFinder,
  classifier: Classifier,
  options: ClassifyOptions & FaceSearchOptions,
): Promise<{ analysis: PhotoAnalysis; classification: Classification }> {
  const analysis = await analyseFile(file, finder, options);
  releasePhoto(analysis.photo);
  return { analysis, classification: await classifyCrop(analysis.aligned.crop, classifier, options) };
}
