// Everything that can go wrong with a photo, as codes the UI turns into plain-language messages.
export type ScreeningErrorCode =
  | 'not-an-image'
  | 'empty-file'
  | 'file-too-large'
  | 'image-too-large'
  | 'no-face'
  | 'face-too-close-to-edge'
  | 'alignment-failed'
  | 'detector-unavailable'
  | 'model-not-ready'
  | 'inference-failed';

export class ScreeningError extends Error {
  constructor(
    readonly code: ScreeningErrorCode,
    detail?: string,
  ) {
    super(detail ?? code);
    this.name = 'ScreeningError';
  }
}
