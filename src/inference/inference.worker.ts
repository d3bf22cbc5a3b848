// The inference worker owns the ONNX Runtime session: it downloads and verifies the model, picks the
// execution provider, runs the manifest's self-test, then classifies preprocessed batches.
// First: the network guard, before any other module runs.
import '../privacy/install-guard';
import type * as Ort from 'onnxruntime-web';
import { checkSessionSignature, selfTestDeviation, selfTestImage, type ModelManifest } from '../model/manifest';
import { downloadModel, listStoredModels, ModelStoreError, pruneOtherVersions, readModelBytes, type ModelStoreErrorCode, type StoreProgress } from '../model/store';
import { toNchwFloat32 } from '../pipeline/preprocess';
import { greyFill, occludeInto, occlusionGrid } from '../pipeline/occlusion';
import { chooseBackend, isSoftwareAdapter, wasmThreadCount, type AdapterFacts } from './backend';
import type { BackendInfo, FromWorker, InferenceErrorCode, ToWorker } from './protocol';
import { warmUpModel } from './warm-up-model';

type OrtModule = typeof Ort;

interface Loaded {
  ort: OrtModule;
  session: Ort.InferenceSession;
  manifest: ModelManifest;
}


let loaded: Loaded | null = null;
// Runs are serialised: ORT sessions must not run concurrently.
let queue: Promise<unknown> = Promise.resolve();

const post = (msg: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(msg, transfer);

class WorkerError extends Error {
  constructor(readonly code: InferenceErrorCode, message: string) {
    super(message);
  }
}

async function gpuAdapter(): Promise<AdapterFacts | null> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } }).gpu;
  if (!gpu) return null;
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return null;
    const info = adapter.info ?? {};
    return { vendor: info.vendor ?? '', architecture: info.architecture ?? '', software: isSoftwareAdapter(info, (adapter as GpuAdapterLike).isFallbackAdapter === true) };
  } catch {
    return null;
  }
}
interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string };
  isFallbackAdapter?: boolean;
}

async function importOrt(ep: BackendInfo['ep']): Promise<OrtModule> {
  // The native WebGPU EP build (it has PRelu on the GPU); the plain WASM build is smaller and CPU-only.
  const ort: OrtModule = ep === 'webgpu' ? await import('onnxruntime-web/webgpu') : await import('onnxruntime-web/wasm');
  // Self-hosted runtime files: ORT's own threads must not re-import the app bundle.
  ort.env.wasm.wasmPaths = new URL('/vendor/ort/', self.location.origin).href;
  return ort;
}

/** Store errors in the words the UI shows (common:modelErrors.<code>). */
function fromStoreError(e: unknown): WorkerError {
  if (!(e instanceof ModelStoreError)) return new WorkerError('model-download', (e as Error).message ?? String(e));
  const code: Record<ModelStoreErrorCode, InferenceErrorCode> = {
    corrupt: 'model-corrupt',
    missing: 'model-download',
    mismatch: 'model-invalid',
    'invalid-manifest': 'model-invalid',
    download: 'model-download',
    quota: 'model-storage',
    unavailable: 'model-storage',
  };
  return new WorkerError(code[e.code], e.message);
}

/**
 * The model's verified bytes, from the on-device store. A model folder is downloaded into the store once (with
 * progress, resumable); offline, the copy stored from that folder is used. A stored model is read by id.
 */
async function obtainModel(msg: Extract<ToWorker, { type: 'load' }>): Promise<{ manifest: ModelManifest; bytes: Uint8Array; downloaded: boolean }> {
  const { requestId } = msg;
  let lastReport = -Infinity;
  const onProgress = ({ loaded, total }: StoreProgress) => {
    if (loaded - lastReport < Math.min(2 << 20, total / 100) && loaded < total) return; // every 2 MiB or 1%
    lastReport = loaded;
    post({ type: 'progress', requestId, stage: loaded < total ? 'download' : 'verify', loaded, total });
  };
  try {
    if (msg.stored) {
      post({ type: 'progress', requestId, stage: 'verify' });
      return { ...(await readModelBytes(msg.stored.id, msg.stored.version)), downloaded: false };
    }
    const base = new URL(msg.modelBaseUrl, self.location.origin).href;
    try {
      return await downloadModel(base, { onProgress });
    } catch (e) {
      if (!(e instanceof ModelStoreError && e.code === 'download')) throw e;
      // No network (ward, conference booth): the copy stored from this folder, newest first.
      const stored = (await listStoredModels()).find((m) => m.source === base);
      if (!stored) throw new ModelStoreError('download', `${e.message} No copy is stored on this device yet.`);
      post({ type: 'progress', requestId, stage: 'verify' });
      return { ...(await readModelBytes(stored.id, stored.version)), downloaded: false };
    }
  } catch (e) {
    throw fromStoreError(e);
  }
}

interface Runtime {
  ort: OrtModule;
  backend: BackendInfo;
  threads: number;
  /** Choosing the backend and starting ORT on it; runs while the model is read or downloaded. */
  startMs: number;
}

async function startRuntime(msg: Extract<ToWorker, { type: 'load' }>): Promise<Runtime> {
  const t0 = performance.now();
  const threadsPossible = self.crossOriginIsolated && typeof SharedArrayBuffer !== 'undefined';
  const threads = threadsPossible && msg.tuning?.threads ? msg.tuning.threads : wasmThreadCount(threadsPossible, navigator.hardwareConcurrency);
  const backend = chooseBackend(msg.backend, msg.backend === 'wasm' ? null : await gpuAdapter(), threads);
  const ort = await importOrt(backend.ep);
  ort.env.wasm.numThreads = threads;
  if (msg.tuning?.runtimeWarmUp === false) return { ort, backend, threads, startMs: performance.now() - t0 };
  try {
    await (await ort.InferenceSession.create(warmUpModel(), { executionProviders: [backend.ep] })).release();
  } catch {
    // Not fatal here: the model's own session creation reports what is wrong with this backend.
  }
  return { ort, backend, threads, startMs: performance.now() - t0 };
}

async function load(msg: Extract<ToWorker, { type: 'load' }>) {
  const { requestId } = msg;
  const t0 = performance.now();
  // ORT starts while the model is being read: the two take seconds each, and neither needs the other.
  const runtime = startRuntime(msg);
  runtime.catch(() => undefined); // awaited below; a model error must not leave it unhandled
  const { manifest, bytes, downloaded } = await obtainModel(msg);
  const t1 = performance.now();

  post({ type: 'progress', requestId, stage: 'session' });
  const started = await runtime;
  const { threads, startMs } = started;
  let { ort, backend } = started;
  const t2 = performance.now(); // the store verifies the SHA-256 while reading or downloading: included in downloadMs
  const options = { graphOptimizationLevel: 'all', ...msg.tuning?.sessionOptions } as const;
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { executionProviders: [backend.ep], ...options });
  } catch (e) {
    if (backend.ep !== 'webgpu' || msg.backend === 'webgpu') throw new WorkerError('session', `The model could not be started (${(e as Error).message}).`);
    backend = { ...backend, ep: 'wasm', reason: `WebGPU failed (${(e as Error).message}); using WASM` };
    ort = await importOrt('wasm');
    ort.env.wasm.numThreads = threads;
    session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], ...options });
  }
  const t3 = performance.now();
  // Report the threads ONNX Runtime runs, not the ones asked for: it falls back to one where WebAssembly threads
  // cannot run, and says so only in the console.
  backend = { ...backend, threads: ort.env.wasm.numThreads ?? threads };
  try {
    checkSessionSignature(manifest, {
      inputs: session.inputMetadata.map((m) => ({ name: m.name, shape: m.isTensor ? m.shape : [] })),
      outputs: session.outputMetadata.map((m) => ({ name: m.name, shape: m.isTensor ? m.shape : [] })),
    });
  } catch (e) {
    await session.release();
    throw new WorkerError('model-invalid', (e as Error).message);
  }

  // The self-test proves this device's backend computes what the model's publisher computed (and warms it up).
  post({ type: 'progress', requestId, stage: 'self-test' });
  const candidate: Loaded = { ort, session, manifest };
  const probs = await run(candidate, toNchwFloat32(selfTestImage(manifest), manifest.normalization), 1);
  const deviation = selfTestDeviation(manifest, probs);
  const t4 = performance.now();
  if (!(deviation <= manifest.selfTest.tolerance)) {
    await session.release();
    throw new WorkerError('model-self-test', `The model failed its self-test on this device (${backend.ep}): outputs differ from the expected ones by ${deviation.toExponential(2)}, more than the allowed ${manifest.selfTest.tolerance}.`);
  }
  if (msg.checkOnly) await session.release();
  else {
    if (loaded) await loaded.session.release();
    loaded = candidate;
  }
  // A new version of a downloaded model replaces the old one only now, verified and self-tested.
  if (downloaded) await pruneOtherVersions(manifest.id, manifest.version).catch(() => undefined);
  post({
    type: 'ready',
    requestId,
    ready: { manifest, backend, selfTestDeviation: deviation, timings: { downloadMs: t1 - t0, runtimeStartMs: startMs, runtimeWaitMs: t2 - t1, sessionMs: t3 - t2, selfTestMs: t4 - t3 } },
  });
}

async function run(target: Loaded, input: Float32Array, batch: number): Promise<Float32Array> {
  const { ort, session, manifest } = target;
  const tensor = new ort.Tensor('float32', input, [batch, 3, 112, 112]);
  const out = await session.run({ [manifest.input.name]: tensor });
  const probabilities = out[manifest.output.name];
  if (!probabilities) throw new WorkerError('inference', `The model produced no "${manifest.output.name}" output.`);
  const data = (await probabilities.getData()) as Float32Array;
  tensor.dispose();
  probabilities.dispose();
  return data;
}

async function classify(msg: Extract<ToWorker, { type: 'classify' }>) {
  if (!loaded) throw new WorkerError('not-ready', 'The model is not loaded yet.');
  if (msg.input.length !== msg.batch * 3 * 112 * 112) throw new WorkerError('inference', 'The input does not have the expected size.');
  const t0 = performance.now();
  let probabilities: Float32Array;
  try {
    probabilities = await run(loaded, msg.input, msg.batch);
  } catch (e) {
    throw e instanceof WorkerError ? e : new WorkerError('inference', `The model failed to run (${(e as Error).message}).`);
  }
  const inferenceMs = performance.now() - t0;
  const copy = new Float32Array(probabilities);
  post({ type: 'result', requestId: msg.requestId, probabilities: copy, batch: msg.batch, inferenceMs }, [copy.buffer]);
}

/** Explanations asked to stop; checked between batches (a cancel is handled at once, not queued). */
const cancelled = new Set<number>();

async function explain(msg: Extract<ToWorker, { type: 'explain' }>) {
  if (!loaded) throw new WorkerError('not-ready', 'The model is not loaded yet.');
  const target = loaded;
  const crop = 3 * 112 * 112;
  if (msg.input.length !== crop) throw new WorkerError('inference', 'The input does not have the expected size.');
  const grid = occlusionGrid(msg.patch, msg.stride);
  const classes = target.manifest.classes.length;
  if (!(msg.classIndex >= 0 && msg.classIndex < classes)) throw new WorkerError('inference', `No class ${msg.classIndex} in this model.`);
  const fill = greyFill(target.manifest.normalization);
  const positions = grid.cells * grid.cells;
  const batchSize = Math.max(1, Math.floor(msg.batchSize));
  const t0 = performance.now();
  // Item −1 is the crop itself, so the baseline comes from the same session and batch shape as the occluded runs.
  const probs = new Float32Array(positions + 1);
  try {
    for (let start = -1; start < positions; start += batchSize) {
      // A run resolves without yielding to the event loop: yield, so that a cancel message gets read.
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (cancelled.has(msg.requestId)) throw new WorkerError('cancelled', 'The explanation was cancelled.');
      const n = Math.min(batchSize, positions - start);
      const input = new Float32Array(n * crop);
      for (let b = 0; b < n; b++) {
        if (start + b < 0) input.set(msg.input, 0);
        else occludeInto(input, b * crop, msg.input, grid, start + b, fill);
      }
      const out = await run(target, input, n);
      for (let b = 0; b < n; b++) probs[start + b + 1] = out[b * classes + msg.classIndex]!;
      post({ type: 'explain-progress', requestId: msg.requestId, done: Math.max(0, start + n), total: positions });
    }
  } catch (e) {
    throw e instanceof WorkerError ? e : new WorkerError('inference', `The model failed to run (${(e as Error).message}).`);
  } finally {
    cancelled.delete(msg.requestId);
  }
  const base = probs[0]!;
  const drops = probs.slice(1).map((p) => base - p);
  post({ type: 'explanation', requestId: msg.requestId, drops, cells: grid.cells, baseProbability: base, elapsedMs: performance.now() - t0 }, [drops.buffer]);
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  if (msg.type === 'cancel') {
    cancelled.add(msg.requestId);
    return;
  }
  const job = () => (msg.type === 'load' ? load(msg) : msg.type === 'explain' ? explain(msg) : classify(msg));
  queue = queue.then(job).catch((e: unknown) => {
    const code: InferenceErrorCode = e instanceof WorkerError ? e.code : msg.type === 'load' ? 'session' : 'inference';
    post({ type: 'error', requestId: msg.requestId, code, message: (e as Error).message ?? String(e) });
  });
};
