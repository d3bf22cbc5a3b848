// The types of a screening's result as the screens show it and the records store saves it: faces, crop, quality,
// probabilities, TTA, the child's fused result. Types and small helpers only: the state lives in ScreeningScreen.
import type { FusionRule } from '../../model/manifest';
import type { DetectedFace, QuarterTurn } from '../../pipeline/face-search';
import type { RgbaImage } from '../../pipeline/image';
import type { QualityReport } from '../../pipeline/quality';
import type { TtaMode } from '../../pipeline/tta';

export interface ScreeningTimings {
  decodeMs: number;
  detectMs: number;
  alignMs: number;
  inferenceMs: number;
  totalMs: number;
}

export interface ScreeningResult {
  photoName: string;
  preview: HTMLCanvasElement;
  previewScale: number;
  /** Faces in the upright photo's pixels, in the order offered (src/pipeline/face-search.ts rankFaces). */
  faces: DetectedFace[];
  chosenFace: number;
  /** True when the clinician tapped a face; false when the first-ranked face was used. */
  pickedByUser: boolean;
  /** The clockwise quarter turn that made the photo upright (its pixels were stored sideways), 0 when none. */
  turn: QuarterTurn;
  crop: RgbaImage;
  /** The reported probabilities: the mean of the TTA passes (or the single pass). */
  probabilities: number[];
  /** The photo's embedding, when the model outputs one (for mean-embedding fusion of several photos). */
  embedding?: number[];
  timings: ScreeningTimings;
  quality: ScreeningQuality;
  tta: ScreeningTta;
}

export interface ScreeningQuality {
  report: QualityReport;
  /** True when a check failed and the clinician chose "show anyway": stored with the result. */
  overridden: boolean;
}

export interface ScreeningTta {
  /** The passes run as one batch, probabilities averaged (src/pipeline/tta.ts). */
  mode: TtaMode;
  /** Probabilities of each pass, in batch order: [crop], [crop, mirror] or [crop, mirror, grey, grey mirror]. */
  passes: number[][];
}

/** i18n key and values describing which face was screened. */
export function faceChoice(count: number, chosen: number, pickedByUser: boolean): { key: string; values: Record<string, number> } {
  if (count === 1) return { key: 'faces.one', values: {} };
  return { key: pickedByUser ? 'faces.picked' : 'faces.first', values: { count, n: chosen + 1 } };
}

/** Another photo of the same child, added to a screening: screened on its own, then fused with the others. */
export interface ChildPhoto {
  key: number;
  file: File;
  name: string;
  /** working: being read and screened; error: no usable face (message); gated: failed the quality gate; screened. */
  state: 'working' | 'error' | 'gated' | 'screened';
  message?: string;
  crop?: RgbaImage;
  quality?: QualityReport;
  /** The clinician chose to include a photo the gate stopped. */
  overridden: boolean;
  probabilities?: number[];
  embedding?: number[];
  tta?: ScreeningTta;
}

/** How the child's result was made from several photos (absent with one photo). */
export interface ChildFusion {
  rule: FusionRule;
  photos: number;
  included: number;
}
