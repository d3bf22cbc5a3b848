// Plain-language texts for what can go wrong, with advice. (English; the i18n layer will take these keys.)
import type { ScreeningErrorCode } from '../screening/errors';
import type { InferenceErrorCode } from '../inference/protocol';

export const screeningErrorText: Record<ScreeningErrorCode, string> = {
  'not-an-image': 'This file is not a photo Facies can read. Choose a JPEG, PNG, WebP or HEIC photo taken by a camera.',
  'empty-file': 'This file is empty. Choose the photo again, or take a new one.',
  'file-too-large': 'This file is too large (over 60 MB). Use the camera photo as it is, or export it at a smaller size.',
  'image-too-large': 'This image has too many pixels (over 100 megapixels). Use an ordinary camera photo.',
  'no-face':
    'No face was found in this photo. Use a well-lit, front-facing photo of the child’s face, with the whole face visible and not too small; remove hats, hands or toys in front of the face.',
  'face-too-close-to-edge': 'The face is cut off by the edge of the photo. Take a photo with the whole face and some space around it.',
  'alignment-failed': 'The face could not be aligned (its eyes, nose and mouth could not be located reliably). Try a sharper, front-facing photo.',
  'model-not-ready': 'The screening model is not ready yet. Wait for it to finish loading, then try again.',
  'inference-failed': 'The screening model failed on this photo. Try again; if it keeps failing, reload the app.',
};

export const inferenceErrorText: Record<InferenceErrorCode, string> = {
  'model-download': 'The screening model could not be downloaded. Connect to the network once so Facies can store it on this device.',
  'model-invalid': 'The screening model on this device is damaged or not the expected file, so it will not be used.',
  'model-self-test': 'The screening model gave unexpected results in its self-test on this device, so it will not be used.',
  session: 'The screening model could not be started on this device.',
  inference: 'The screening model failed to run.',
  'not-ready': 'The screening model is not ready yet.',
};
