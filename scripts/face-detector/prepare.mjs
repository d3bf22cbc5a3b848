// @ts-check
/**
 * Build-time step: make BlazeFace short-range (from the npm package
 * @mediapipe/face_detection, Apache-2.0) loadable by MediaPipe Tasks
 * FaceDetector by adding TFLite model metadata (RGB image input 128x128,
 * normalization (x - 127.5) / 127.5). Deterministic output.
 *
 *   node scripts/face-detector/prepare.mjs public/vendor/mediapipe
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { addImageInputMetadata } from './tflite-metadata.mjs';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const MODEL_FILE_NAME = 'face_detection_short_range.tflite';

/** Source model inside node_modules. */
export const SOURCE_MODEL_PATH = path.join(REPO_ROOT, 'node_modules', '@mediapipe', 'face_detection', MODEL_FILE_NAME);

/** SHA-256 of face_detection_short_range.tflite in @mediapipe/face_detection 0.4.1657300184. */
export const SOURCE_MODEL_SHA256 = '3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633';

/**
 * SHA-256 of the prepared model (source model + FACE_DETECTOR_METADATA with
 * tflite-metadata.mjs as committed). Checked by tests/unit/tflite-metadata.test.ts
 * so that any change of the output bytes is deliberate; usable to pin the
 * asset elsewhere.
 */
export const PREPARED_MODEL_SHA256 = '33a8c4794c65f1a99f21aaf642fd11a2fa46939d669cb159623de7864d795866';

/** Metadata written into the model. Changing it changes the output bytes. */
export const FACE_DETECTOR_METADATA = Object.freeze({
  name: 'BlazeFace short-range',
  description:
    'Face detector for short-range images (BlazeFace). From @mediapipe/face_detection ' +
    '0.4.1657300184; TFLite metadata added by Facies (scripts/face-detector/prepare.mjs).',
  license: 'Apache License. Version 2.0 http://www.apache.org/licenses/LICENSE-2.0.',
  colorSpace: /** @type {const} */ ('RGB'),
  width: 128,
  height: 128,
  mean: [127.5],
  std: [127.5],
  minParserVersion: '1.0.0',
});

/** @param {Uint8Array} bytes */
export function sha256Hex(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Returns the prepared model bytes for the given source bytes (checks the
 * pinned SHA-256 first). Pure apart from hashing.
 * @param {Uint8Array} sourceBytes
 * @returns {Uint8Array}
 */
export function buildFaceDetectorModel(sourceBytes) {
  const actual = sha256Hex(sourceBytes);
  if (actual !== SOURCE_MODEL_SHA256) {
    throw new Error(
      `${MODEL_FILE_NAME} from @mediapipe/face_detection has SHA-256 ${actual}, expected ` +
        `${SOURCE_MODEL_SHA256}. The package changed: check the new model (input shape, ` +
        'normalization, outputs) with scripts/face-detector/verify-in-chromium.mjs, then update ' +
        'SOURCE_MODEL_SHA256 in scripts/face-detector/prepare.mjs.',
    );
  }
  return addImageInputMetadata(sourceBytes, FACE_DETECTOR_METADATA);
}

/**
 * Writes `<outDir>/face_detection_short_range.tflite` (only if its content
 * differs) and returns its path and SHA-256.
 * @param {{ outDir: string, sourcePath?: string }} options
 * @returns {Promise<{ path: string, sha256: string, written: boolean }>}
 */
export async function prepareFaceDetector({ outDir, sourcePath = SOURCE_MODEL_PATH }) {
  if (!outDir) throw new Error('prepareFaceDetector: outDir is required');
  /** @type {Uint8Array} */
  let source;
  try {
    source = new Uint8Array(await readFile(sourcePath));
  } catch (err) {
    throw new Error(
      `cannot read ${sourcePath} (is the devDependency @mediapipe/face_detection installed? run npm install): ${/** @type {Error} */ (err).message}`,
    );
  }
  const model = buildFaceDetectorModel(source);
  const sha256 = sha256Hex(model);
  const outPath = path.resolve(outDir, MODEL_FILE_NAME);

  /** @type {Uint8Array | null} */
  let existing = null;
  try {
    existing = new Uint8Array(await readFile(outPath));
  } catch (err) {
    if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'ENOENT') throw err;
  }
  if (existing && existing.length === model.length && sha256Hex(existing) === sha256) {
    return { path: outPath, sha256, written: false };
  }
  await mkdir(path.dirname(outPath), { recursive: true });
  const tmp = `${outPath}.${process.pid}.tmp`;
  await writeFile(tmp, model);
  await rename(tmp, outPath);
  return { path: outPath, sha256, written: true };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const outDir = process.argv[2];
  if (!outDir || process.argv.length > 3) {
    console.error('usage: node scripts/face-detector/prepare.mjs <outDir>');
    process.exit(2);
  }
  prepareFaceDetector({ outDir }).then(
    (r) => console.log(`${r.written ? 'wrote' : 'up to date'} ${path.relative(process.cwd(), r.path)} sha256=${r.sha256}`),
    (err) => {
      console.error(`prepare face detector: ${err.message}`);
      process.exit(1);
    },
  );
}
