// The benchmark page: the app's own modules (worker client, the screening pipeline), timed stage by stage the way a
// screening runs them. scripts/bench/run.ts calls window.faciesBench through Playwright.
// First: the network guard, as in the app.
import '../../../src/privacy/install-guard';
import { fromBase64, toBase64 } from '../../../src/encoding/base64';
import { InferenceClient } from '../../../src/inference/client';
import type { BackendPreference, LoadTuning, ModelReady } from '../../../src/inference/protocol';
import { FaceFinder } from '../../../src/screening/face-finder';
import { analysePhoto, classifyCrop, decode, modelInput, releasePhoto } from '../../../src/screening/pipeline';
import type { CellOutcome, FaceCell } from '../face-cells';
import { cellJpeg, referenceFor, runFaceCell } from './face-sweep';
import { measureSimdPeak } from './simd-peak';

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
  /** The face search (views of the photo + BlazeFace, candidates found again in their own view), as the app runs it. */
  detectMs: number;
  /** Detector calls of that search. */
  detectorCalls: number;
  /** Similarity alignment to the ArcFace crop, quality checks, NCHW normalisation. */
  alignPreprocessMs: number;
  /** classify(batch 1) seen from the main thread (includes the message round trip)... */
  inferenceMs: number;
  /** ...and inside the worker (session.run only). */
  inferenceWorkerMs: number;
  /** Flip test-time augmentation: original + mirrored crop as one batch of 2. */
  inferenceFlipBatchMs: number;
  /** Photo file to probabilities, model already loaded: decode → find faces → align → quality → infer (batch 1). */
  photoToResultMs: number;
  /** The same with the face search of one look at the whole photo (no second look, no extra passes): its cost. */
  photoToResultSinglePassMs: number;
  /** Main-thread long tasks (> 50 ms) during that photo-to-result run. */
  longTasksMs: number[];
  jsHeapBytes: number;
  probabilities: number[];
}

let client: InferenceClient | null = null;
let detector: FaceFinder | null = null;
let normalization: ModelReady['manifest']['normalization'] | null = null;

const heap = () => (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0;

function photoBlob(base64: string, type: string): Blob {
  return new Blob([fromBase64(base64) as Uint8Array<ArrayBuffer>], { type });
}

async function load(options: {
  modelBaseUrl: string;
  backend: BackendPreference;
  tuning?: LoadTuning;
  photoBase64: string;
  photoType: string;
}): Promise<LoadReport> {
  const t0 = performance.now();
  client = new InferenceClient();
  // The worker and the detector start together, as in the app.
  const detectorStart = performance.now();
  const detectorReady = FaceFinder.create().then((d) => ((detector = d), performance.now() - detectorStart));
  const ready = await client.load(options.modelBaseUrl, options.backend, undefined, options.tuning);
  const wallMs = performance.now() - t0;
  const detectorCreateMs = await detectorReady;
  normalization = ready.manifest.normalization;
  const { photo } = await decode(photoBlob(options.photoBase64, options.photoType));
  const t1 = performance.now();
  releasePhoto((await analysePhoto(photo, detector!)).photo);
  const detectorFirstMs = performance.now() - t1;
  return { wallMs, ready, detectorCreateMs, detectorFirstMs };
}

/** Photo file → probabilities with the loaded model (batch 1), with the face search as shipped or reduced. */
async function photoToResult(blob: Blob, search: { refine?: boolean; extraPasses?: boolean }) {
  if (!client || !detector || !normalization) throw new Error('load() first');
  const t0 = performance.now();
  const decoded = await decode(blob);
  const a = await analysePhoto(decoded.photo, detector, search);
  releasePhoto(a.photo);
  const result = await classifyCrop(a.aligned.crop, (input, batch) => client!.classify(input, batch), { normalization, tta: 'none' });
  return { ms: performance.now() - t0, result };
}

/**
 * Photo → result, alternating the shipped face search and a single look at the whole photo, on photos whose first
 * look finds the face: what the extra passes cost where they are not needed.
 */
async function searchCost(options: {
  cells: FaceCell[];
  fixtures: Record<string, string>;
  repeats: number;
}): Promise<{ id: string; shippedMs: number[]; singleLookMs: number[] }[]> {
  const sources = new Map<string, ImageBitmap>();
  for (const [name, base64] of Object.entries(options.fixtures)) sources.set(name, await createImageBitmap(photoBlob(base64, 'image/png')));
  const out = [];
  for (const cell of options.cells) {
    const blob = await cellJpeg(cell, sources);
    const shippedMs: number[] = [];
    const singleLookMs: number[] = [];
    for (let i = 0; i < options.repeats; i++) {
      shippedMs.push((await photoToResult(blob, {})).ms);
      singleLookMs.push((await photoToResult(blob, { refine: false, extraPasses: false })).ms);
    }
    out.push({ id: cell.id, shippedMs, singleLookMs });
  }
  sources.forEach((b) => b.close());
  return out;
}

async function stages(options: { photoBase64: string; photoType: string }): Promise<StageSample> {
  if (!client || !detector || !normalization) throw new Error('load() first');
  const blob = photoBlob(options.photoBase64, options.photoType);
  let t = performance.now();
  const { photo } = await decode(blob);
  const decodeMs = performance.now() - t;
  const analysis = await analysePhoto(photo, detector);
  releasePhoto(analysis.photo);
  const detectMs = analysis.timings.detectMs;
  const detectorCalls = Object.values(analysis.search).reduce((a, n) => a + n, 0);
  t = performance.now();
  const single = modelInput(analysis.aligned.crop, { normalization, tta: 'none' }).input;
  const pair = modelInput(analysis.aligned.crop, { normalization, tta: 'flip' }).input;
  const alignPreprocessMs = analysis.timings.alignMs + (performance.now() - t) / 2;
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
  const shipped = await photoToResult(blob, {});
  // Long-task entries are delivered asynchronously: let the observer catch up before disconnecting.
  await new Promise((r) => setTimeout(r, 50));
  longTasksMs.push(...observer.takeRecords().map((e) => e.duration));
  observer.disconnect();
  const singlePass = await photoToResult(blob, { refine: false, extraPasses: false });

  return {
    decodeMs,
    detectMs,
    detectorCalls,
    alignPreprocessMs,
    inferenceMs,
    inferenceWorkerMs: one.inferenceMs,
    inferenceFlipBatchMs,
    photoToResultMs: shipped.ms,
    photoToResultSinglePassMs: singlePass.ms,
    longTasksMs,
    jsHeapBytes: Math.max(jsHeapBytes, heap()),
    probabilities: shipped.result.probabilities,
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
async function fixtureInputs(options: {
  photoBase64: string;
  photoType: string;
  normalization: ModelReady['manifest']['normalization'];
  variants?: PhotoVariant[];
}) {
  const detector = await FaceFinder.create();
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
    const { photo } = await decode(await canvas.convertToBlob({ type: 'image/png' }));
    try {
      const analysis = await analysePhoto(photo, detector);
      releasePhoto(analysis.photo);
      const { input } = modelInput(analysis.aligned.crop, { normalization: options.normalization, tta: 'none' });
      out.push({
        name: v.name,
        score: analysis.faces[analysis.chosenFace]!.score,
        inputBase64: toBase64(new Uint8Array(input.buffer, input.byteOffset, input.byteLength)),
      });
    } catch {
      skipped.push(v.name); // no face found in this variant
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
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    description: info.description ?? '',
    fallback: (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true,
  };
}

/** The face-stage sweep (npm run bench:faces): each cell's photo made here from the fixtures, through the pipeline. */
async function faceSweep(options: {
  cells: FaceCell[];
  fixtures: Record<string, string>;
  search?: { refine?: boolean; extraPasses?: boolean };
}): Promise<CellOutcome[]> {
  const finder = detector ?? (detector = await FaceFinder.create());
  const sources = new Map<string, ImageBitmap>();
  for (const [name, base64] of Object.entries(options.fixtures)) sources.set(name, await createImageBitmap(photoBlob(base64, 'image/png')));
  const references = new Map<string, Awaited<ReturnType<typeof referenceFor>>>();
  for (const name of ['astronaut.png', 'camera.png']) if (sources.has(name)) references.set(name, await referenceFor(sources.get(name)!, finder));
  const out: CellOutcome[] = [];
  for (const cell of options.cells) out.push(await runFaceCell(cell, finder, sources, references, options.search));
  sources.forEach((b) => b.close());
  return out;
}

/** The compute ceiling: peak WebAssembly SIMD128 GFLOP/s in 1 and 2 workers (simd-peak.ts). */
const simdPeak = (options?: { targetMs?: number; runs?: number }) => measureSimdPeak(options);

const api = { load, stages, fixtureInputs, faceSweep, searchCost, adapterInfo, simdPeak, crossOriginIsolated: () => self.crossOriginIsolated };
export type FaciesBench = typeof api;
(window as unknown as { faciesBench: FaciesBench }).faciesBench = api;
document.getElementById('bench-status')!.dataset.ready = 'true';
