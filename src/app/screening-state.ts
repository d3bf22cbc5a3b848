import type { DetectedFace } from '../screening/face-detector';

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
  faces: DetectedFace[];
  chosenFace: number;
  /** True when the clinician tapped a face; false when the only or the largest face was used. */
  pickedByUser: boolean;
  crop: HTMLCanvasElement;
  probabilities: number[];
  timings: ScreeningTimings;
}

/** i18n key and values describing which face was screened. */
export function faceChoice(count: number, chosen: number, pickedByUser: boolean): { key: string; values: Record<string, number> } {
  if (count === 1) return { key: 'faces.one', values: {} };
  return { key: pickedByUser ? 'faces.picked' : 'faces.largest', values: { count, n: chosen + 1 } };
}
