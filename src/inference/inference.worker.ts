// The inference worker: it only dispatches messages. The model comes from ./model-source (the on-device store), the
// runtime from ./runtime (execution provider, ONNX Runtime start), and everything about the session — signature
// check, self-test, classification, occlusion batches — from ./session-core, the code the unit tests run in Node.
// First: the network guard, before any other module runs.
import '../privacy/install-guard';
import { pruneOtherVersions } from '../model/store';
import { trackWasmMemories, wasmMemoryBytes } from '../platform/wasm-memory';
import { obtainModel } from './model-source';
import type { FromWorker, InferenceErrorCode, ToWorker } from './protocol';
import { importOrt, startRuntime } from './runtime';
import { InferenceFailure, startModel, type ModelSession } from './session-core';

// Before ONNX Runtime is imported: its WebAssembly memory is counted from the start.
trackWasmMemories();
const wasmMB = () => Math.round(wasmMemoryBytes() / 1048576);

let loaded: ModelSession | null = null;
// Runs are serialised: ORT sessions must not run concurrently.
let queue: Promise<unknown> = Promise.resolve();
/** Explanations queued or running, by request: a cancel aborts one (checked between its batches). */
const explanations = new Map<number, AbortController>();

const post = (msg: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(msg, transfer);

async function load(msg: Extract<ToWorker, { type: 'load' }>) {
  const { requestId } = msg;
  const t0 = performance.now();
  // ORT starts while the model is being read: the two take seconds each, and neither needs the other.
  const runtime = startRuntime(msg.backend, msg.tuning);
  runtime.catch(() => undefined); // awaited below; a model error must not leave it unhandled
  // `file` is emptied by startModel once ORT has its own copy of the bytes.
  const { manifest, downloaded, ...file } = await obtainModel(msg, post, self.location.origin);
  const t1 = performance.now();

  post({ type: 'progress', requestId, stage: 'session' });
  const { ort, threads, startMs, backend: chosen } = await runtime;
  const t2 = performance.now(); // the store verifies the SHA-256 while reading or downloading: included in downloadMs
  const wasmMemoryMB = { modelRead: wasmMB(), sessionCreated: 0, selfTested: 0 };
  let running = ort;
  // WebGPU chosen by "auto" that cannot run this model: WASM instead.
  const fallback =
    chosen.ep === 'webgpu' && msg.backend !== 'webgpu'
      ? async () => {
          running = await importOrt('wasm', threads);
          return { ort: running, ep: 'wasm' };
        }
      : undefined;
  if (!msg.checkOnly && loaded) {
    // Switching models: the app stops using the current one whatever happens (engine.tsx shows this load's outcome),
    // so it goes first. Two ResNet-100 sessions at once would double the peak, and a WASM heap never shrinks again.
    const previous = loaded;
    loaded = null;
    await previous.release();
  }
  const started = await startModel({
    ort,
    ep: chosen.ep,
    file,
    manifest,
    sessionOptions: { ...msg.tuning?.sessionOptions, ...(msg.tuning?.ortVerboseLog ? { logSeverityLevel: 0, logVerbosityLevel: 0 } : {}) },
    ...(fallback ? { fallback } : {}),
    // onnxruntime-web reads external data through subarray (what widening needs); WebGPU keeps the weights as stored.
    widenFloat16On: msg.tuning?.widenFloat16 === false ? [] : ['wasm'],
    releaseWeightsOn: msg.tuning?.releaseWeightsAsRead === false ? [] : ['wasm'],
    // The store's buffer, transferred to nobody else; ORT-web has copied every weight into its heap (or GPU buffers).
    freeFileWhenRead: true,
    onSelfTest: () => {
      wasmMemoryMB.sessionCreated = wasmMB();
      post({ type: 'progress', requestId, stage: 'self-test' });
    },
  });
  wasmMemoryMB.selfTested = wasmMB();
  const ep = started.ep as 'webgpu' | 'wasm';
  // Report the threads ONNX Runtime runs, not the ones asked for: it falls back to one where WebAssembly threads
  // cannot run, and says so only in the console.
  const numThreads = running.env.wasm.numThreads ?? threads;
  const backend = {
    ...chosen,
    ep,
    threads: numThreads,
    ...(started.fallbackReason !== undefined ? { reason: `WebGPU failed (${started.fallbackReason}); using WASM` } : {}),
  };
  if (msg.checkOnly) await started.model.release();
  else {
    const previous = loaded; // a load that overtook this one (loads are queued: none, normally)
    loaded = started.model;
    await previous?.release();
  }
  // A new version of a downloaded model replaces the old one only now, verified and self-tested.
  if (downloaded) await pruneOtherVersions(manifest.id, manifest.version).catch(() => undefined);
  post({
    type: 'ready',
    requestId,
    ready: {
      manifest,
      backend,
      selfTestDeviation: started.selfTestDeviation,
      wasmMemoryMB,
      timings: { downloadMs: t1 - t0, runtimeStartMs: startMs, runtimeWaitMs: t2 - t1, sessionMs: started.sessionMs, selfTestMs: started.selfTestMs },
    },
  });
}

function current(): ModelSession {
  if (!loaded) throw new InferenceFailure('not-ready', 'The model is not loaded yet.');
  return loaded;
}

async function classify(msg: Extract<ToWorker, { type: 'classify' }>) {
  const t0 = performance.now();
  const { probabilities, embeddings } = await current().classify(msg.input, msg.batch);
  const inferenceMs = performance.now() - t0;
  // The core returns copies the worker owns: transferred, not copied again.
  post(
    { type: 'result', requestId: msg.requestId, probabilities, ...(embeddings ? { embeddings } : {}), batch: msg.batch, inferenceMs },
    embeddings ? [probabilities.buffer, embeddings.buffer] : [probabilities.buffer],
  );
}

async function explain(msg: Extract<ToWorker, { type: 'explain' }>, signal: AbortSignal) {
  const t0 = performance.now();
  const { drops, cells, baseProbability } = await current().explain(msg.input, msg.classIndex, msg, {
    signal,
    onProgress: (done, total) => post({ type: 'explain-progress', requestId: msg.requestId, done, total }),
  });
  post({ type: 'explanation', requestId: msg.requestId, drops, cells, baseProbability, elapsedMs: performance.now() - t0 }, [drops.buffer]);
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  if (msg.type === 'cancel') {
    // A cancel is handled at once, not queued; one for a request that is over is ignored.
    explanations.get(msg.requestId)?.abort();
    return;
  }
  let job: () => Promise<void>;
  if (msg.type === 'explain') {
    const controller = new AbortController();
    explanations.set(msg.requestId, controller);
    job = () => explain(msg, controller.signal).finally(() => explanations.delete(msg.requestId));
  } else job = () => (msg.type === 'load' ? load(msg) : classify(msg));
  queue = queue.then(job).catch((e: unknown) => {
    const code: InferenceErrorCode = e instanceof InferenceFailure ? e.code : msg.type === 'load' ? 'session' : 'inference';
    post({ type: 'error', requestId: msg.requestId, code, message: (e as Error)?.message ?? String(e) });
  });
};
