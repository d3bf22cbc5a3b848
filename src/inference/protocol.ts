// Typed messages between the UI thread and the inference worker (the worker owns the ONNX session): the one
// definition of the worker's request/reply surface, used by client.ts and inference.worker.ts.
import type { InferenceSession } from 'onnxruntime-web';
import type { ModelManifest } from '../model/manifest';

export type BackendPreference = 'auto' | 'webgpu' | 'wasm';

export interface BackendInfo {
  /** The execution provider the session was created with; the only one it was given. */
  ep: 'webgpu' | 'wasm';
  /** WASM threads (1 without cross-origin isolation). */
  threads: number;
  /** GPU adapter description, when WebGPU was looked at. */
  adapter?: { vendor: string; architecture: string; software: boolean };
  /** Why this backend and not the other. */
  reason: string;
}

export interface ModelReady {
  manifest: ModelManifest;
  backend: BackendInfo;
  /**
   * downloadMs: reading (or downloading) the model with its SHA-256 check. runtimeStartMs: starting ONNX Runtime on the
   * chosen backend, in parallel with that; runtimeWaitMs: how long the model then still waited for it.
   */
  timings: { downloadMs: number; runtimeStartMs: number; runtimeWaitMs: number; sessionMs: number; selfTestMs: number };
  /**
   * ONNX Runtime's WebAssembly memory in the worker (MB), which JS heap figures leave out and which never shrinks:
   * with the model's bytes read and the runtime started, once the session is created, after the self-test.
   */
  wasmMemoryMB: { modelRead: number; sessionCreated: number; selfTested: number };
  selfTestDeviation: number;
}

/** Benchmark knobs: each measured before it becomes a default (scripts/bench). */
export interface LoadTuning {
  /** WASM threads; default all cores up to 4. ORT fixes it when it first starts in a worker. */
  threads?: number;
  /** false: start ONNX Runtime only when the model's session is created (the behaviour before the warm-up; to measure it). */
  runtimeWarmUp?: boolean;
  /**
   * ONNX Runtime's verbose log in the console (`?ortLog=verbose`): for support, and for the check that the ResNet-100
   * runs whole on WebGPU (its node placement: e2e/backend-parity.spec.ts).
   */
  ortVerboseLog?: boolean;
  /** false: give ORT the float16 weights as stored, with their Casts (the behaviour before widening; to measure it). */
  widenFloat16?: boolean;
  /** false: keep the whole model file until the session exists (the behaviour before releasing weights as read). */
  releaseWeightsAsRead?: boolean;
  /** Merged over the worker's session options. */
  sessionOptions?: Pick<
    InferenceSession.SessionOptions,
    'graphOptimizationLevel' | 'enableMemPattern' | 'enableCpuMemArena' | 'freeDimensionOverrides' | 'extra'
  >;
}

export type ToWorker =
  /** stored: load a model from the on-device store by id and version (imported models) instead of modelBaseUrl. */
  /** checkOnly: run the checks and the self-test, then release the session and keep the current model (import). */
  | {
      type: 'load';
      requestId: number;
      modelBaseUrl: string;
      backend: BackendPreference;
      tuning?: LoadTuning;
      stored?: { id: string; version: string };
      checkOnly?: boolean;
    }
  | { type: 'classify'; requestId: number; input: Float32Array; batch: number }
  /** Occlusion sensitivity of one crop (NCHW, the manifest's input shape) for one class; see src/pipeline/occlusion.ts. */
  | { type: 'explain'; requestId: number; input: Float32Array; classIndex: number; patch: number; stride: number; batchSize: number }
  /** Stops a running explanation between batches; it then answers with error code 'cancelled'. */
  | { type: 'cancel'; requestId: number };

export type FromWorker =
  | { type: 'progress'; requestId: number; stage: 'download' | 'verify' | 'session' | 'self-test'; loaded?: number; total?: number }
  | { type: 'ready'; requestId: number; ready: ModelReady }
  /** `embeddings`: batch × dimension, when the manifest names an embedding output (inference.embedding). */
  | { type: 'result'; requestId: number; probabilities: Float32Array; embeddings?: Float32Array; batch: number; inferenceMs: number }
  | { type: 'explain-progress'; requestId: number; done: number; total: number }
  /** `drops`: cells × cells, row-major: the class's probability without occlusion minus with the patch there. */
  | { type: 'explanation'; requestId: number; drops: Float32Array; cells: number; baseProbability: number; elapsedMs: number }
  | { type: 'error'; requestId: number; code: InferenceErrorCode; message: string };

export type InferenceErrorCode =
  'model-download' | 'model-invalid' | 'model-corrupt' | 'model-storage' | 'model-self-test' | 'session' | 'inference' | 'not-ready' | 'cancelled';

/** The reply that settles each request (besides 'error'); 'cancel' gets none of its own. */
export interface ReplyTypes {
  load: 'ready';
  classify: 'result';
  explain: 'explanation';
}
export type Request = Exclude<ToWorker, { type: 'cancel' }>;
export type ReplyTo<R extends Request> = Extract<FromWorker, { type: ReplyTypes[R['type']] }>;
export const REPLY_TYPES: Readonly<ReplyTypes> = Object.freeze({ load: 'ready', classify: 'result', explain: 'explanation' });
/** Messages a request may receive before its reply. */
export type ProgressMessage = Extract<FromWorker, { type: 'progress' | 'explain-progress' }>;
