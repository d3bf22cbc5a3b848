// The benchmark page: the app's own modules (worker client, face detector, alignment, preprocessing), timed stage
// by stage the way a screening runs them. scripts/bench/run.ts calls window.faciesBench through Playwright.
import { fromBase64, toBase64 } from '../../../src/encoding/base64';
import { installNetworkGuard } from '../../../src/privacy/network-guard';
import { InferenceClient } from '../../../src/inference/client';
import type { BackendPreference, LoadTuning, ModelReady } from '../../../src/inference/protocol';
import { flipHorizontal, toNchwFloat32 } from '../../../src/pipeline/preprocess';
import { FacesInPhoto } from '../../../src/screening/face-detector';
import { decodePhoto } from '../../../src/screening/photo';
import { alignFromPhoto, findFaces } from '../../../src/screening/screen-photo';

installNetworkGuard();

export interface LoadReport {
  wallMs: number;
  ready: ModelReady;
  detectorCreateMs: number;
  /** First detection after the detector starts (MediaPipe graph start-up). */
  detectorFirstMs: number;
}

/** One repetition of every stage, in milliseconds. */
export interface StageSample {
  decodeMs: number;
  /** Downscale for detection + BlazeFace, as the screening screen runs it. */
  detectMs: number;
  /** Similarity alignment to the ArcFace crop + NCHW normalisation. */
  alignPreprocessMs: number;
  /** classify(batch 1) seen from the main thread (includes the message round trip)... */
  inferenceMs: number;
  /** ...and inside the worker (session.run only). */
  inferenceWorkerMs: number;
  /** Flip test-time augmentation: original + mirrored crop as one batch of 2. */
  inferenceFlipBatchMs: number;
  /** Photo file to probabilities, model already loaded: decode → detect → align → infer. */
  photoToResultMs: number;
  /** Main-thread long tasks (> 50 ms) during that photo-to-result run. */
  longTasksMs: number[];
  jsHeapBytes: number;
  probabilities: number[];
}

let client: InferenceClient | null = null;
let detector: FacesInPhoto | null = null;
let normalization: ModelReady['manifest']['normalization'] | null = null;

const heap = () => (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0;

function photoBlob(base64: string, type: string): Blob {
  return new Blob([fromBase64(base64) as Uint8Array<ArrayBuffer>], { type });
}

async function load(options: { modelBaseUrl: string; backend: BackendPreference; tuning?: LoadTuning; photoBase64: string; photoType: string }): Promise<LoadReport> {
  const t0 = performance.now();
  client = new InferenceClient();
  // The worker and the detector start together, as in the app.
  const detectorStart = performance.now();
  const detectorReady = FacesInPhoto.create().then((d) => ((detector = d), performance.now() - detectorStart));
  const ready = await client.load(options.modelBaseUrl, options.backend, undefined, options.tuning);
  const wallMs = performance.now() - t0;
  const detectorCreateMs = await detectorReady;
  normalization = ready.manifest.normalization;
  const photo = await decodePhoto(photoBlob(options.photoBase64, options.photoType));
  const t1 = performance.now();
  findFaces(photo, detector!);
  const detectorFirstMs = performance.now() - t1;
  photo.bitmap.close();
  return { wallMs, ready, detectorCreateMs, detectorFirstMs };
}

async function stages(options: { photoBase64: string; photoType: string }): Promise<StageSample> {
  if (!client || !detector || !normalization) throw new Error('load() first');
  const blob = photoBlob(options.photoBase64, options.photoType);
  let t = performance.now();
  const photo = await decodePhoto(blob);
  const decodeMs = performance.now() - t;
  t = performance.now();
  const found = findFaces(photo, detector);
  const detectMs = performance.now() - t;
  t = performance.now();
  const aligned = alignFromPhoto(photo, found.faces[0]!);
  const single = toNchwFloat32(aligned.crop, normalization);
  const alignPreprocessMs = performance.now() - t;
  const pair = new Float32Array(2 * single.length);
  pair.set(single);
  toNchwFloat32(flipHorizontal(aligned.crop), normalization, pair, single.length);
  photo.bitmap.close();
  const jsHeapBytes = heap();

  t = performance.now();
  const one = await client.classify(single, 1);
  const inferenceMs = performance.now() - t;
  t = performance.now();
  await client.classify(pair, 2);
  const inferenceFlipBatchMs = performance.now() - t;

  // Photo to result, model loaded, watching the main thread for long tasks.
  const longTasksMs: number[] = [];
  const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasksMs.push(e.duration)));
  observer.observe({ type: 'longtask' });
  t = performance.now();
  const photo2 = await decodePhoto(blob);
  const found2 = findFaces(photo2, detector);
  const crop2 = alignFromPhoto(photo2, found2.faces[0]!).crop;
  const result = await client.classify(toNchwFloat32(crop2, normalization), 1);
  const photoToResultMs = performance.now() - t;
  photo2.bitmap.close();
  // Long-task entries are delivered asynchronously: let the observer catch up before disconnecting.
  await new Promise((r) => setTimeout(r, 50));
  longTasksMs.push(...observer.takeRecords().map((e) => e.duration));
  observer.disconnect();

  return {
    decodeMs,
    detectMs,
    alignPreprocessMs,
    inferenceMs,
    inferenceWorkerMs: one.inferenceMs,
    inferenceFlipBatchMs,
    photoToResultMs,
    longTasksMs,
    jsHeapBytes: Math.max(jsHeapBytes, heap()),
    probabilities: Array.from(result.probabilities),
  };
}

/** A photometric/geometric change of the fixture photo, as a clinic photo might differ from it. */
export interface PhotoVariant {
  name: string;
  /** Degrees, counter-clockwise, about the photo's centre. */
  rotate?: number;
  /** Zoom about the centre (the canvas keeps its size; < 1 shows more background). */
  scale?: number;
  mirror?: boolean;
  /** A CSS filter, e.g. 'brightness(1.2)'. */
  filter?: string;
}

export const FIXTURE_VARIANTS: PhotoVariant[] = [
  { name: 'original' },
  { name: 'mirrored', mirror: true },
  { name: 'rotated +8°', rotate: 8 },
  { name: 'rotated −8°', rotate: -8 },
  { name: 'zoomed out 0.7', scale: 0.7 },
  { name: 'zoomed in 1.3', scale: 1.3 },
  { name: 'darker', filter: 'brightness(0.75)' },
  { name: 'brighter', filter: 'brightness(1.25)' },
  { name: 'low contrast', filter: 'contrast(0.7)' },
  { name: 'warmer', filter: 'sepia(0.3)' },
  { name: 'soft focus', filter: 'blur(1px)' },
  { name: 'mirrored, rotated +5°, darker', mirror: true, rotate: 5, filter: 'brightness(0.85)' },
];

/**
 * The fixture photo and its variants through the app's own detection, alignment and preprocessing: the model inputs
 * (float32 NCHW, base64) on which an optimised model's probabilities are compared with its float32 export.
 */
async function fixtureInputs(options: { photoBase64: string; photoType: string; normalization: ModelReady['manifest']['normalization']; variants?: PhotoVariant[] }) {
  const detector = await FacesInPhoto.create();
  const source = await createImageBitmap(photoBlob(options.photoBase64, options.photoType));
  const out: { name: string; score: number; inputBase64: string }[] = [];
  const skipped: string[] = [];
  for (const v of options.variants ?? FIXTURE_VARIANTS) {
    const canvas = new OffscreenCanvas(source.width, source.height);
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#808080';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.translate(canvas.width / 2, canvas.height / 2);
    ctx.rotate((-(v.rotate ?? 0) * Math.PI) / 180);
    ctx.scale((v.mirror ? -1 : 1) * (v.scale ?? 1), v.scale ?? 1);
    ctx.filter = v.filter ?? 'none';
    ctx.drawImage(source, -source.width / 2, -source.height / 2);
    const photo = await decodePhoto(await canvas.convertToBlob({ type: 'image/png' }));
    try {
      const found = findFaces(photo, detector);
      const input = toNchwFloat32(alignFromPhoto(photo, found.faces[0]!).crop, options.normalization);
      out.push({ name: v.name, score: found.faces[0]!.score, inputBase64: toBase64(new Uint8Array(input.buffer, input.byteOffset, input.byteLength)) });
    } catch {
      skipped.push(v.name); // no face found in this variant
    } finally {
      photo.bitmap.close();
    }
  }
  source.close();
  detector.close();
  return { inputs: out, skipped };
}

/** What the WebGPU adapter is, without starting ORT: lets the runner mark SwiftShader timings as emulated. */
async function adapterInfo(): Promise<{ vendor: string; architecture: string; description: string; fallback: boolean } | null> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ info?: Record<string, string>; isFallbackAdapter?: boolean } | null> } }).gpu;
  const adapter = await gpu?.requestAdapter().catch(() => null);
  if (!adapter) return null;
  const info = adapter.info ?? {};
  return { vendor: info.vendor ?? '', architecture: info.architecture ?? '', description: info.description ?? '', fallback: (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true };
}

const api = { load, stages, fixtureInputs, adapterInfo, crossOriginIsolated: () => self.crossOriginIsolated };
export type FaciesBench = typeof api;
(window as unknown as { faciesBench: FaciesBench }).faciesBench = api;
document.getElementById('bench-status')!.dataset.ready = 'true';
