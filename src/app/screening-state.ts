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
  faceChoiceText: string;
  crop: HTMLCanvasElement;
  probabilities: number[];
  timings: ScreeningTimings;
}

export function faceChoiceText(count: number, chosen: number, pickedByUser: boolean): string {
  if (count === 1) return 'One face found.';
  if (pickedByUser) return `${count} faces found — screening face ${chosen + 1}, as you chose. Tap another face to screen it instead.`;
  return `${count} faces found — screening the largest (face ${chosen + 1}). Tap another face to screen it instead.`;
}
